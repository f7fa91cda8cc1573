package configtest

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A full PromQL parser is the prometheus module, far too large a
// dependency for this check; the subset the rules and the dashboard use
// is tokenised here instead, and the extraction has its own test below.

// selector is one vector selector: a metric name and the label names its
// matchers use.
type selector struct {
	metric string
	labels []string
}

// exprRefs is what one expression refers to.
type exprRefs struct {
	selectors []selector
	// grouping are the labels of by, without, on, ignoring and group_*.
	grouping []string
}

var (
	// Strings go first, so that nothing inside one is read as PromQL.
	stringRe = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	// Grafana's template variables ($instance, ${datasource},
	// $__rate_interval) stand where a value or a duration would.
	grafanaVarRe = regexp.MustCompile(`\$\{?\w+\}?`)
	rangeRe      = regexp.MustCompile(`\[[^\]]*\]`)
	groupingRe   = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	selectorRe   = regexp.MustCompile(`([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}`)
	matcherRe    = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)`)
	tokenRe      = regexp.MustCompile(`[0-9][0-9A-Za-z_.]*|[A-Za-z_:][A-Za-z0-9_:]*|\S`)
	keywords     = []string{"and", "or", "unless", "bool", "offset", "inf", "nan", "Inf", "NaN"}
)

func parseRefs(expr string) exprRefs {
	var r exprRefs
	s := stringRe.ReplaceAllString(expr, `""`)
	s = grafanaVarRe.ReplaceAllString(s, "0")
	s = rangeRe.ReplaceAllString(s, " ")
	s = groupingRe.ReplaceAllStringFunc(s, func(m string) string {
		for _, l := range strings.Split(groupingRe.FindStringSubmatch(m)[2], ",") {
			if l = strings.TrimSpace(l); l != "" {
				r.grouping = append(r.grouping, l)
			}
		}
		return " "
	})
	s = selectorRe.ReplaceAllStringFunc(s, func(m string) string {
		sub := selectorRe.FindStringSubmatch(m)
		sel := selector{metric: sub[1]}
		for _, mm := range matcherRe.FindAllStringSubmatch(sub[2], -1) {
			sel.labels = append(sel.labels, mm[1])
		}
		r.selectors = append(r.selectors, sel)
		return " "
	})
	// What is left: bare metric names, function and aggregation names
	// (followed by "("), keywords and numbers.
	toks := tokenRe.FindAllString(s, -1)
	for i, tok := range toks {
		ident := tok[0] == '_' || tok[0] == ':' || ('a' <= tok[0] && tok[0] <= 'z') || ('A' <= tok[0] && tok[0] <= 'Z')
		if !ident || slices.Contains(keywords, tok) || (i+1 < len(toks) && toks[i+1] == "(") {
			continue
		}
		r.selectors = append(r.selectors, selector{metric: tok})
	}
	return r
}

func TestParseRefs(t *testing.T) {
	tests := []struct {
		expr         string
		wantMetrics  []string
		wantLabels   []string // of all selectors, in order
		wantGrouping []string
	}{
		{
			expr:        `sagebridge_store_up == 0`,
			wantMetrics: []string{"sagebridge_store_up"},
		},
		{
			expr: `sum by (instance, job) (rate(sagebridge_scim_requests_total{status=~"5..", method!="GET"}[5m]))
			  / sum by (instance, job) (rate(sagebridge_scim_requests_total[5m])) > 0.01`,
			wantMetrics:  []string{"sagebridge_scim_requests_total", "sagebridge_scim_requests_total"},
			wantLabels:   []string{"status", "method"},
			wantGrouping: []string{"instance", "job", "instance", "job"},
		},
		{
			expr:         `histogram_quantile(0.99, sum(rate(x_seconds_bucket{instance=~"$instance"}[$__rate_interval])) by (le))`,
			wantMetrics:  []string{"x_seconds_bucket"},
			wantLabels:   []string{"instance"},
			wantGrouping: []string{"le"},
		},
		{
			expr:        `time() - a_timestamp_seconds offset 5m > 3 * 3600 and on() vector(1) unless b{k='v{}'}`,
			wantMetrics: []string{"b", "a_timestamp_seconds"},
			wantLabels:  []string{"k"},
		},
		{
			expr:        `absent(sagebridge_store_up)`,
			wantMetrics: []string{"sagebridge_store_up"},
		},
	}
	for _, tt := range tests {
		r := parseRefs(tt.expr)
		var metrics, labels []string
		for _, s := range r.selectors {
			metrics = append(metrics, s.metric)
			labels = append(labels, s.labels...)
		}
		slices.Sort(metrics)
		slices.Sort(tt.wantMetrics)
		if !slices.Equal(metrics, tt.wantMetrics) || !slices.Equal(labels, tt.wantLabels) || !slices.Equal(r.grouping, tt.wantGrouping) {
			t.Errorf("%s:\n got metrics %q labels %q grouping %q\nwant metrics %q labels %q grouping %q",
				tt.expr, metrics, labels, r.grouping, tt.wantMetrics, tt.wantLabels, tt.wantGrouping)
		}
	}
}
