{{/* Every object of a service, separated as one stream. */}}
{{- define "spatial-service.all" -}}
{{ include "spatial-service.serviceaccount" . }}
---
{{ include "spatial-service.service" . }}
---
{{ include "spatial-service.deployment" . }}
---
{{ include "spatial-service.pdb" . }}
{{- with (include "spatial-service.hpa" .) }}
---
{{ . }}
{{- end }}
{{- with (include "spatial-service.servicemonitor" .) }}
---
{{ . }}
{{- end }}
{{- with (include "spatial-service.ingress" .) }}
---
{{ . }}
{{- end }}
{{- end -}}
