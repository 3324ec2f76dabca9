// Command aminhibit answers "which of these alerts does Alertmanager mute
// by inhibition while those fire?" for an Alertmanager config file, with
// Alertmanager's own config loader and inhibitor (the pinned release), so
// tests can prove inhibit_rules, which amtool cannot evaluate.
//
//	aminhibit --config.file=alertmanager.yaml < request.json
//
// The request is {"firing": [labels...], "check": [labels...]}; the answer
// is one {"labels": ..., "inhibited": bool} per checked label set. Exit 1 on
// a config or input error, 2 on bad usage.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/eventrecorder"
	"github.com/prometheus/alertmanager/inhibit"
	"github.com/prometheus/alertmanager/provider/mem"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

type request struct {
	Firing []model.LabelSet `json:"firing"`
	Check  []model.LabelSet `json:"check"`
}

type answer struct {
	Labels    model.LabelSet `json:"labels"`
	Inhibited bool           `json:"inhibited"`
}

func main() {
	file := flag.String("config.file", "", "Alertmanager configuration file")
	flag.Parse()
	if *file == "" {
		fmt.Fprintln(os.Stderr, "usage: aminhibit --config.file=alertmanager.yaml < request.json")
		os.Exit(2)
	}
	out, err := run(*file, os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "aminhibit:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

func run(file string, in io.Reader) ([]answer, error) {
	cfg, err := config.LoadFile(file)
	if err != nil {
		return nil, err
	}
	var req request
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	alerts, err := mem.NewAlerts(ctx, time.Hour, 0, nil, logger, eventrecorder.NopRecorder(), prometheus.NewRegistry(), nil)
	if err != nil {
		return nil, err
	}
	defer alerts.Close()
	now := time.Now()
	for _, ls := range req.Firing {
		a := &alert.Alert{Alert: model.Alert{Labels: ls, StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour)}, UpdatedAt: now}
		if err := alerts.Put(ctx, a); err != nil {
			return nil, err
		}
	}
	// The alerts are in the store before the inhibitor starts, so its
	// initial load sees every one of them.
	ih := inhibit.NewInhibitor(alerts, cfg.InhibitRules, logger, eventrecorder.NopRecorder())
	go ih.Run()
	defer ih.Stop()
	ih.WaitForLoading()
	out := make([]answer, 0, len(req.Check))
	for _, ls := range req.Check {
		out = append(out, answer{Labels: ls, Inhibited: ih.Mutes(ctx, ls)})
	}
	return out, nil
}
