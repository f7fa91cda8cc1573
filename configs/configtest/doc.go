// Package configtest holds tests only: they check the operational files in
// configs/ (the Grafana dashboard, the Prometheus alerting rules, the
// bridge's IAM policy) against the code they describe, so that a renamed
// metric or a new AWS call breaks a test rather than a dashboard, an alert
// or the sync in production.
package configtest
