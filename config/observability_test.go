package config_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

// stockParser parses as a Prometheus without feature flags does.
var stockParser = parser.NewParser(parser.Options{})

func TestAlertsParse(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rule monitoringv1.PrometheusRule
	if err := yaml.UnmarshalStrict(b, &rule); err != nil {
		t.Fatal(err)
	}
	if rule.Kind != "PrometheusRule" || rule.APIVersion != "monitoring.coreos.com/v1" || len(rule.Spec.Groups) != 1 {
		t.Fatalf("%s %s with %d groups", rule.APIVersion, rule.Kind, len(rule.Spec.Groups))
	}
	want := map[string]bool{ // what the alerts must cover
		"ScaleguardWebhookSlow": true, "ScaleguardWebhookErrors": true, "ScaleguardWebhookCallsFailing": true,
		"ScaleguardCertificateExpiring": true, "ScaleguardInformerNotSynced": true, "ScaleguardDenialsSpiking": true,
		"ScaleguardPolicyRefused": true,
	}
	for _, r := range rule.Spec.Groups[0].Rules {
		delete(want, r.Alert)
		t.Run(r.Alert, func(t *testing.T) {
			expr, err := stockParser.ParseExpr(r.Expr.String())
			if err != nil {
				t.Fatalf("does not parse: %v\n%s", err, r.Expr.String())
			}
			if expr.Type() != parser.ValueTypeVector {
				t.Errorf("an alert expression must be a vector, this is a %s", expr.Type())
			}
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("labels %v annotations %v: want a severity, a summary and a description", r.Labels, r.Annotations)
			}
		})
	}
	for a := range want {
		t.Errorf("no alert %s", a)
	}
}

// grafanaVariables stand in for the dashboard's variables when an
// expression is parsed.
var grafanaVariables = strings.NewReplacer("$__rate_interval", "5m", "$namespace", ".*")

// labelValues is Grafana's label_values(metric, label) variable query.
var labelValues = regexp.MustCompile(`^label_values\((\w+),\s*(\w+)\)$`)

type dashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func TestDashboardParses(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("grafana", "scaleguard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.UID != "scaleguard" || d.Title == "" {
		t.Errorf("uid %q title %q", d.UID, d.Title)
	}
	n := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			n++
			if strings.Contains(grafanaVariables.Replace(target.Expr), "$") {
				t.Errorf("panel %q uses a variable the dashboard does not define: %s", p.Title, target.Expr)
			}
			if _, err := stockParser.ParseExpr(grafanaVariables.Replace(target.Expr)); err != nil {
				t.Errorf("panel %q: %v\n%s", p.Title, err, target.Expr)
			}
		}
	}
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(map[string]any); ok && !labelValues.MatchString(q["query"].(string)) {
			t.Errorf("variable %s: query %v is not label_values(metric, label)", v.Name, q["query"])
		}
	}
	if n < 10 {
		t.Errorf("%d queries", n)
	}
}
