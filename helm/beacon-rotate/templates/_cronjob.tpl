{{/*
The rotation CronJob. It lives in this chart, not in the library chart:
it is the only scheduled workload, and the library's Deployment concerns
(Service, probes, HPA, PDB) do not apply to a run-to-completion job. It
reuses the library's names, labels, image and service account.
*/}}
{{- define "beacon-rotate.cronjob" -}}
{{- $certs := .Values.nats.mountPath -}}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ include "spatial-service.fullname" . }}
  labels:
    {{- include "spatial-service.labels" . | nindent 4 }}
spec:
  schedule: {{ required "schedule is required (a five-field cron expression)" .Values.schedule | quote }}
  timeZone: {{ .Values.timeZone }}
  # A run still rotating when the next is due makes the next one wait: two
  # rotations of the same beacons at once would race on successorId.
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: {{ .Values.startingDeadlineSeconds }}
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 3
  jobTemplate:
    metadata:
      labels:
        {{- include "spatial-service.labels" . | nindent 8 }}
    spec:
      backoffLimit: {{ .Values.backoffLimit }}
      activeDeadlineSeconds: {{ .Values.activeDeadlineSeconds }}
      ttlSecondsAfterFinished: 86400
      template:
        metadata:
          labels:
            {{- include "spatial-service.labels" . | nindent 12 }}
        spec:
          restartPolicy: Never
          serviceAccountName: {{ include "spatial-service.serviceAccountName" . }}
          automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
          securityContext:
            runAsNonRoot: true
            runAsUser: {{ .Values.securityContext.runAsUser }}
            runAsGroup: {{ .Values.securityContext.runAsUser }}
            fsGroup: {{ .Values.securityContext.runAsUser }}
            seccompProfile:
              type: RuntimeDefault
          containers:
            - name: {{ include "spatial-service.name" . }}
              image: {{ include "spatial-service.image" . | quote }}
              imagePullPolicy: IfNotPresent
              env:
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
              resources:
                {{- required "resources are required: set requests and limits" .Values.resources | toYaml | nindent 16 }}
              securityContext:
                allowPrivilegeEscalation: false
                readOnlyRootFilesystem: true
                runAsNonRoot: true
                capabilities:
                  drop: ["ALL"]
              volumeMounts:
                - name: nats-user
                  mountPath: {{ $certs }}
                  readOnly: true
                - name: tmp
                  mountPath: /tmp
          volumes:
            # cert-manager writes and renews this client certificate (URI SAN
            # of NATS service user beacon-rotate); each run reads the current one.
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
            # The root filesystem is read-only; /tmp is the one writable place.
            - name: tmp
              emptyDir:
                sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end -}}
