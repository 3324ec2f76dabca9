{{/*
What the rotation job reads (services/beacon-rotate), and the NATS client
certificate it reads it with; the CronJob itself is the library's
(spatial-service.cronjob).
*/}}
{{- define "beacon-rotate.env" -}}
{{- $certs := .Values.nats.mountPath -}}
- name: BEACON_TABLE
  value: {{ required "beaconTable is required (the edge stack's beacons_table output, <org>-<env>-beacons)" .Values.beaconTable | quote }}
- name: AWS_REGION
  value: {{ required "awsRegion is required (the env's region)" .Values.awsRegion | quote }}
- name: NATS_URL
  value: {{ required "nats.url is required" .Values.nats.url | quote }}
- name: NATS_CA_FILE
  value: {{ printf "%s/ca.crt" $certs | quote }}
- name: NATS_CERT_FILE
  value: {{ printf "%s/tls.crt" $certs | quote }}
- name: NATS_KEY_FILE
  value: {{ printf "%s/tls.key" $certs | quote }}
{{- end -}}

{{- define "beacon-rotate.volumeMounts" -}}
- name: nats-user
  mountPath: {{ .Values.nats.mountPath }}
  readOnly: true
{{- end -}}

{{/*
cert-manager writes and renews this client certificate (URI SAN of NATS
service user beacon-rotate); each run reads the current one.
*/}}
{{- define "beacon-rotate.volumes" -}}
- name: nats-user
  secret:
    secretName: {{ required "nats.secretName is required" .Values.nats.secretName }}
    defaultMode: 0440
    items:
      - key: ca.crt
        path: ca.crt
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
{{- end -}}
