{{/*
Prometheus scrapes the service through this ServiceMonitor. The release
label is what kube-prometheus-stack's Prometheus selects ServiceMonitors by
(serviceMonitorSelectorNilUsesHelmValues, release kube-prometheus-stack), in
every namespace. It scrapes the Service's metrics port (metrics.port: the
kit's operations listener, apart from the API) when the chart sets one,
else its http port.
*/}}
{{- define "spatial-service.servicemonitor" -}}
{{- if .Values.metrics.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "spatial-service.fullname" . }}
  labels:
    {{- include "spatial-service.labels" . | nindent 4 }}
    release: kube-prometheus-stack
spec:
  selector:
    matchLabels:
      {{- include "spatial-service.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: {{ if .Values.metrics.port }}metrics{{ else }}http{{ end }}
      path: {{ .Values.metrics.path }}
      interval: {{ .Values.metrics.interval }}
{{- end }}
{{- end -}}
