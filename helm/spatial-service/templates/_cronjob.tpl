{{/*
A run-to-completion CronJob for the charts whose workload is a scheduled job
(helm/beacon-rotate, helm/crl-sync). The Deployment concerns (Service,
probes, HPA, PDB) do not apply; what every job shares does: one run at a
time (concurrencyPolicy Forbid: two overlapping runs of the same job would
race on the same records), deadlines and retries from values, restricted
Pod Security, a read-only root filesystem with /tmp as the one writable
place, and the library's names, labels, image and service account.

Call it with a dict:
  root          the chart's context (.)
  env           the container's env list, as YAML (the chart's own
                required-value checks stay in the chart)
  volumeMounts  optional extra mounts, as YAML
  volumes       optional extra volumes, as YAML
*/}}
{{- define "spatial-service.cronjob" -}}
{{- $root := .root -}}
{{- with $root -}}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ include "spatial-service.fullname" . }}
  labels:
    {{- include "spatial-service.labels" . | nindent 4 }}
spec:
  schedule: {{ required "schedule is required (a five-field cron expression)" .Values.schedule | quote }}
  timeZone: {{ .Values.timeZone }}
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
                {{- $.env | nindent 16 }}
              resources:
                {{- required "resources are required: set requests and limits" .Values.resources | toYaml | nindent 16 }}
              securityContext:
                allowPrivilegeEscalation: false
                readOnlyRootFilesystem: true
                runAsNonRoot: true
                capabilities:
                  drop: ["ALL"]
              volumeMounts:
                {{- with $.volumeMounts }}
                {{- . | nindent 16 }}
                {{- end }}
                - name: tmp
                  mountPath: /tmp
          volumes:
            {{- with $.volumes }}
            {{- . | nindent 12 }}
            {{- end }}
            - name: tmp
              emptyDir:
                sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end -}}
{{- end -}}
