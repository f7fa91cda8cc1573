package configtest

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const (
	alertsFile    = "../prometheus/alerts.yaml"
	dashboardFile = "../grafana/sagebridge.json"
	runbookFile   = "../../docs/operations.md"
	runbookURL    = "https://github.com/sagebridge/sagebridge/blob/main/docs/operations.md#"
)

// targetLabels are added by Prometheus when it scrapes, so no exposition
// has them.
var targetLabels = []string{"instance", "job"}

// exprProblems lists every metric of expr the exposition lacks, every
// matcher on a label its metric does not have, and every grouping label
// none of the expression's metrics has.
func exprProblems(series map[string]family, expr string) []string {
	refs := parseRefs(expr)
	if len(refs.selectors) == 0 {
		return []string{fmt.Sprintf("no metric found in %q", expr)}
	}
	var problems []string
	known := map[string]bool{}
	for _, l := range targetLabels {
		known[l] = true
	}
	for _, sel := range refs.selectors {
		f, ok := series[sel.metric]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s is not in the daemon's exposition", sel.metric))
			continue
		}
		for l := range f.labels {
			known[l] = true
		}
		for _, l := range sel.labels {
			if !f.labels[l] && !slices.Contains(targetLabels, l) {
				problems = append(problems, fmt.Sprintf("%s has no label %s", sel.metric, l))
			}
		}
	}
	for _, l := range refs.grouping {
		if !known[l] {
			problems = append(problems, fmt.Sprintf("no metric has the label %s it groups or matches by", l))
		}
	}
	return problems
}

func checkExpr(t *testing.T, series map[string]family, expr string) {
	t.Helper()
	for _, p := range exprProblems(series, expr) {
		t.Errorf("%s (in %q)", p, expr)
	}
}

func TestExprProblems(t *testing.T) {
	series := exposedSeries(t, daemonRegistry(t))
	tests := []struct {
		expr string
		want int
	}{
		{`sum by (instance, kind) (rate(sagebridge_sync_reconciles_total{result="error"}[5m]))`, 0},
		{`histogram_quantile(0.9, sum by (le) (rate(sagebridge_scim_request_duration_seconds_bucket[5m])))`, 0},
		{`sagebridge_sync_reconciles`, 1},                                    // misspelt
		{`sagebridge_scim_request_duration_seconds_total`, 1},                // no such suffix
		{`sagebridge_sync_reconciles_total{outcome="error"}`, 1},             // no such label
		{`sum by (le) (rate(sagebridge_sync_reconciles_total[5m]))`, 1},      // le is on _bucket only
		{`sum by (kinds) (sagebridge_sync_conflicts_total) > on(job) up`, 2}, // kinds, and up is Prometheus's
		{`vector(1)`, 1}, // no metric at all
	}
	for _, tt := range tests {
		if got := exprProblems(series, tt.expr); len(got) != tt.want {
			t.Errorf("%s: %d problems %q, want %d", tt.expr, len(got), got, tt.want)
		}
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func TestAlertRules(t *testing.T) {
	f, err := os.Open(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rf ruleFile
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true) // a misspelt key would be a rule Prometheus rejects
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	series := exposedSeries(t, daemonRegistry(t))
	anchors := headingAnchors(t, runbookFile)
	seen := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			t.Run(r.Alert, func(t *testing.T) {
				if r.Alert == "" || seen[r.Alert] {
					t.Fatalf("group %s: alert name %q empty or repeated", g.Name, r.Alert)
				}
				seen[r.Alert] = true
				checkExpr(t, series, r.Expr)
				if r.For != "" && !durationRe.MatchString(r.For) {
					t.Errorf("for: %q is not a Prometheus duration", r.For)
				}
				if s := r.Labels["severity"]; s != "warning" && s != "critical" {
					t.Errorf("severity %q, want warning or critical", s)
				}
				for _, a := range []string{"summary", "description"} {
					if r.Annotations[a] == "" {
						t.Errorf("no %s annotation", a)
					}
				}
				url := r.Annotations["runbook_url"]
				if want := runbookURL + strings.ToLower(r.Alert); url != want {
					t.Errorf("runbook_url %q, want %q", url, want)
				}
				if !anchors[strings.ToLower(r.Alert)] {
					t.Errorf("%s has no section %q: its runbook", runbookFile, r.Alert)
				}
			})
		}
	}
	if len(seen) == 0 {
		t.Fatalf("%s: no alerts", alertsFile)
	}
}

// panel is the part of a Grafana panel the test reads; rows nest panels.
type panel struct {
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

type dashboard struct {
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

var durationRe = regexp.MustCompile(`^([0-9]+(ms|[smhdwy]))+$`)

var labelValuesRe = regexp.MustCompile(`^label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,\s*(\w+)\s*\)$`)

// dashboardExprs returns every query of the dashboard, by where it is.
func dashboardExprs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	exprs := map[string]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for i, tg := range p.Targets {
				exprs[p.Title+"#"+string(rune('A'+i))] = tg.Expr
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Definition == "" {
			continue
		}
		// label_values(metric, label) is Grafana's, not PromQL: check it
		// as the selector metric{label=""}.
		m := labelValuesRe.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("variable %s: cannot read %q", v.Name, v.Definition)
			continue
		}
		exprs["variable "+v.Name] = m[1] + "{" + m[2] + `=""}`
	}
	return exprs
}

func TestDashboardQueries(t *testing.T) {
	series := exposedSeries(t, daemonRegistry(t))
	for where, expr := range dashboardExprs(t) {
		t.Run(where, func(t *testing.T) { checkExpr(t, series, expr) })
	}
}

// Every sagebridge metric the daemon exposes has a place on the
// dashboard: a new metric is drawn, or this test says where it is missing.
func TestDashboardShowsEveryMetric(t *testing.T) {
	used := map[string]bool{}
	for _, expr := range dashboardExprs(t) {
		for _, sel := range parseRefs(expr).selectors {
			used[sel.metric] = true
		}
	}
	mfs, err := daemonRegistry(t).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, "sagebridge_") {
			continue
		}
		if !used[name] && !used[name+"_bucket"] && !used[name+"_count"] && !used[name+"_sum"] {
			t.Errorf("%s is exposed but on no panel of %s", name, dashboardFile)
		}
	}
}

// headingAnchors returns the GitHub anchors of the Markdown file's
// headings: lower case, spaces to hyphens, other punctuation dropped.
func headingAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		title, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if !ok || !strings.HasPrefix(line, "#") {
			continue
		}
		anchor := strings.Map(func(r rune) rune {
			switch {
			case r == ' ':
				return '-'
			case r == '-' || r == '_' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
				return r
			}
			return -1
		}, strings.ToLower(strings.TrimSpace(title)))
		anchors[anchor] = true
	}
	return anchors
}
