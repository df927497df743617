// Package charts holds scaleguard's Helm chart (charts/scaleguard) and the
// test that keeps it in step with the kustomize install in config/.
package charts
