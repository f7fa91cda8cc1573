package configtest

import (
	"context"
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sagebridge/sagebridge/internal/metrics"
	"github.com/sagebridge/sagebridge/internal/store"
	"github.com/sagebridge/sagebridge/internal/sync"
)

type noStats struct{}

func (noStats) Stats(context.Context) (store.Stats, error) { return store.Stats{}, nil }

// daemonRegistry registers what the daemon registers (cmd/bridge serve:
// internal/metrics and the sync's instruments on one registry) and gives
// every labelled family one child, so that the exposition lists it.
func daemonRegistry(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	touchVecs(t, metrics.New(reg, noStats{}))
	touchVecs(t, sync.NewMetrics(reg))
	return reg
}

// touchVecs creates one child of every vector field of the struct m
// points to. A vector has no series until a label set is used, and one
// without series is neither in the exposition nor linted.
func touchVecs(t *testing.T, m any) {
	t.Helper()
	v := reflect.ValueOf(m).Elem()
	vecType := reflect.TypeFor[*prometheus.MetricVec]()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer || f.Elem().Kind() != reflect.Struct {
			continue
		}
		inner := f.Elem().FieldByName("MetricVec")
		if !inner.IsValid() || inner.Type() != vecType {
			continue
		}
		if !touch(inner.Interface().(*prometheus.MetricVec)) {
			t.Fatalf("%s.%s: no label count from 0 to 10 fits", v.Type(), v.Type().Field(i).Name)
		}
	}
}

// touch tries label counts until the vector accepts one.
func touch(vec *prometheus.MetricVec) bool {
	for n := range 11 {
		if _, err := vec.GetMetricWithLabelValues(make([]string, n)...); err == nil {
			return true
		}
	}
	return false
}

// family is what the rules may refer to: a family's type (HISTOGRAM,
// COUNTER, ...) and label names.
type family struct {
	typ    string
	labels map[string]bool
}

// exposedSeries maps every series name the text exposition shows
// (histograms' _bucket, _sum and _count included) to its family.
func exposedSeries(t *testing.T, reg prometheus.Gatherer) map[string]family {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]family{}
	for _, mf := range mfs {
		f := family{typ: mf.GetType().String(), labels: map[string]bool{}}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				f.labels[lp.GetName()] = true
			}
		}
		name := mf.GetName()
		out[name] = f
		var suffixes []string
		switch f.typ {
		case "HISTOGRAM", "GAUGE_HISTOGRAM":
			suffixes = []string{"_bucket", "_sum", "_count"}
		case "SUMMARY":
			suffixes = []string{"_sum", "_count"}
		}
		for _, s := range suffixes {
			sf := family{typ: f.typ, labels: f.labels}
			if s == "_bucket" {
				sf.labels = withLabel(f.labels, "le")
			}
			out[name+s] = sf
		}
		if f.typ == "SUMMARY" {
			out[name] = family{typ: f.typ, labels: withLabel(f.labels, "quantile")}
		}
	}
	return out
}

func withLabel(labels map[string]bool, l string) map[string]bool {
	out := map[string]bool{l: true}
	for k := range labels {
		out[k] = true
	}
	return out
}

func TestExpositionLints(t *testing.T) {
	problems, err := testutil.GatherAndLint(daemonRegistry(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}
