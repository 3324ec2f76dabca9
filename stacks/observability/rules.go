package observability

import (
	_ "embed"

	"gopkg.in/yaml.v3"
)

// RulesFile is the platform alert rules in Prometheus rule-file format; the
// same bytes are loaded into Prometheus and unit-tested by promtool.
//
//go:embed rules/platform.rules.yaml
var RulesFile []byte

// Rules returns the rule groups as values for kube-prometheus-stack's
// additionalPrometheusRulesMap, which creates the PrometheusRule object
// with the release label the operator selects on.
func Rules() (map[string]any, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(RulesFile, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// EdgeRulesFile is the Edge Sync and marketplace alert rules, a second rule
// file so the edge alerts are tested (edge.rules.test.yaml) and owned apart
// from the platform ones.
//
//go:embed rules/edge.rules.yaml
var EdgeRulesFile []byte

// EdgeRules returns the edge rule groups for additionalPrometheusRulesMap.
func EdgeRules() (map[string]any, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(EdgeRulesFile, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}
