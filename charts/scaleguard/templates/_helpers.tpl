{{/*
Names are fixed, not prefixed by the release: serve finds its webhook
configurations, Secret and Certificate by these names, and its RBAC names
them (resourceNames). One release per cluster.
*/}}

{{- define "scaleguard.labels" -}}
app.kubernetes.io/name: scaleguard
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "scaleguard.selectorLabels" -}}
app.kubernetes.io/name: scaleguard
app.kubernetes.io/component: webhook
{{- end }}

{{/* The release's namespace, then values.excludedNamespaces. */}}
{{- define "scaleguard.excluded" -}}
{{- prepend .Values.excludedNamespaces .Release.Namespace | uniq | toJson }}
{{- end }}

{{- define "scaleguard.certManager" -}}
{{- if eq .Values.certificate.mode "cert-manager" }}true{{ end }}
{{- end }}

{{/* The documents of a file of files/, parsed, each with a kind. */}}
{{- define "scaleguard.documents" -}}
{{- $out := list }}
{{- range regexSplit "(?m)^---\\s*$" (.root.Files.Get .file) -1 }}
{{- $doc := fromYaml . }}
{{- if $doc.kind }}{{ $out = append $out $doc }}{{ end }}
{{- end }}
{{- dict "items" $out | toJson }}
{{- end }}
