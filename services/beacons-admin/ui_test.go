package main

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/edgeworld"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/services/beacons/registry"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

// GIVEN beacons in the table THEN the UI lists venues and a venue's
// beacons (HTML-escaped); it answers no method that writes.
func TestReadOnlyPages(t *testing.T) {
	w := edgeworld.New(t, edgeworld.Options{})
	store := registry.Store{DB: dynamodb.NewFromConfig(w.AWS), Table: w.BeaconsTable}
	require.NoError(t, store.Put(context.Background(), edge.Beacon{VenueID: "venue-1", BeaconID: "b-1", Packet: "https://cdn.x/open/p/1/t.pmtiles?<script>", RotatesAt: 1, ExpiresAt: 2}))
	ks := kittest.New("beacons-admin", 0)
	Routes(ks.Service, store)
	url := kittest.Start(t, ks.Service).API
	c, body := kittest.Get(url + "/")
	require.Equal(t, 200, c)
	assert.Contains(t, body, `<a href="/venues/venue-1">venue-1</a>`)
	c, body = kittest.Get(url + "/venues/venue-1")
	require.Equal(t, 200, c)
	assert.Contains(t, body, "<td>b-1</td>")
	assert.NotContains(t, body, "<script>", "values are escaped")
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		for _, path := range []string{"/", "/venues/venue-1", "/v1/beacons"} {
			req, _ := http.NewRequest(m, url+path, strings.NewReader(`{"venueId":"x"}`))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Contains(t, []int{http.StatusMethodNotAllowed, http.StatusNotFound}, resp.StatusCode, "%s %s must not be served", m, path)
		}
	}
	venues, _ := store.Venues(context.Background())
	assert.Equal(t, []string{"venue-1"}, venues, "nothing was written")
}
