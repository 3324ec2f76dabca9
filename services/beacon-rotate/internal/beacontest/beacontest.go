// Package beacontest creates what the job's tests run against: a beacon
// table in moto_server shaped like the edge stack's (venueId + beaconId
// key, TTL on expiresAt).
package beacontest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
)

// Table creates a fresh beacon table on the shared moto_server, deleted
// when the test ends, and returns a client for it and its name.
func Table(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	db := dynamodb.New(dynamodb.Options{
		Region: motoserver.Region, BaseEndpoint: aws.String(motoserver.Endpoint(t)),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	table := motoserver.UniqueName("spatialprops-dev-beacons")
	ctx := context.Background()
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(edge.BeaconAttrVenueID), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(edge.BeaconAttrBeaconID), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(edge.BeaconAttrVenueID), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(edge.BeaconAttrBeaconID), AttributeType: types.ScalarAttributeTypeS},
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(edge.BeaconAttrExpiresAt), Enabled: aws.Bool(true)},
	})
	require.NoError(t, err)
	return db, table
}
