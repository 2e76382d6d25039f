{{- define "clearbox-webhook.name" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "clearbox-webhook.labels" -}}
app.kubernetes.io/name: clearbox-webhook
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "clearbox-webhook.selector" -}}
app.kubernetes.io/name: clearbox-webhook
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
