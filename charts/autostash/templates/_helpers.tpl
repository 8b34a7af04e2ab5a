{{/* Names are fixed: the webhook configurations, Service and Lease are named in the controller's contract. */}}
{{- define "autostash.labels" -}}
app.kubernetes.io/name: autostash
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "autostash.selectorLabels" -}}
app.kubernetes.io/name: autostash
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "autostash.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end }}

{{/* Namespaces whose Jobs get the per-role ServiceAccounts: the release namespace, then the listed ones. */}}
{{- define "autostash.jobNamespaces" -}}
{{- $namespaces := list .Release.Namespace }}
{{- range .Values.jobServiceAccounts.namespaces }}{{ $namespaces = append $namespaces . }}{{ end }}
{{- uniq $namespaces | toJson }}
{{- end }}
