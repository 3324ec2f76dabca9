{{/*
What the CRL sync job reads (services/crl-sync): the PKI bucket and the CA
and trust store ARNs from the ConfigMap the edge stack writes from the
identity outputs, the region from values. The CronJob itself is the
library's (spatial-service.cronjob).
*/}}
{{- define "crl-sync.env" -}}
{{- $cm := required "identityConfigMap is required (the ConfigMap the edge stack writes from the identity outputs)" .Values.identityConfigMap -}}
{{- range list "PKI_BUCKET" "CA_ARN" "TRUST_STORE_ARN" }}
- name: {{ . }}
  valueFrom:
    configMapKeyRef:
      name: {{ $cm | quote }}
      key: {{ . }}
{{- end }}
- name: AWS_REGION
  value: {{ required "awsRegion is required (the env's region)" .Values.awsRegion | quote }}
{{- end -}}
