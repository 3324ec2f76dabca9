{{/*
The CRL sync CronJob. Like helm/beacon-rotate's, it lives in this chart,
not in the library chart: the library's Deployment concerns (Service,
probes, HPA, PDB) do not apply to a run-to-completion job. It reuses the
library's names, labels, image and service account.
*/}}
{{- define "crl-sync.cronjob" -}}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ include "spatial-service.fullname" . }}
  labels:
    {{- include "spatial-service.labels" . | nindent 4 }}
spec:
  schedule: {{ required "schedule is required (a five-field cron expression)" .Values.schedule | quote }}
  timeZone: {{ .Values.timeZone }}
  # Two runs at once could each add a list and remove the other's.
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
                - name: PKI_BUCKET
                  valueFrom:
                    configMapKeyRef:
                      name: {{ required "identityConfigMap is required (the ConfigMap the edge stack writes from the identity outputs)" .Values.identityConfigMap | quote }}
                      key: PKI_BUCKET
                - name: CA_ARN
                  valueFrom:
                    configMapKeyRef:
                      name: {{ required "identityConfigMap is required (the ConfigMap the edge stack writes from the identity outputs)" .Values.identityConfigMap | quote }}
                      key: CA_ARN
                - name: TRUST_STORE_ARN
                  valueFrom:
                    configMapKeyRef:
                      name: {{ required "identityConfigMap is required (the ConfigMap the edge stack writes from the identity outputs)" .Values.identityConfigMap | quote }}
                      key: TRUST_STORE_ARN
                - name: AWS_REGION
                  value: {{ required "awsRegion is required (the env's region)" .Values.awsRegion | quote }}
              resources:
                {{- required "resources are required: set requests and limits" .Values.resources | toYaml | nindent 16 }}
              securityContext:
                allowPrivilegeEscalation: false
                readOnlyRootFilesystem: true
                runAsNonRoot: true
                capabilities:
                  drop: ["ALL"]
              volumeMounts:
                - name: tmp
                  mountPath: /tmp
          volumes:
            # The root filesystem is read-only; /tmp is the one writable place.
            - name: tmp
              emptyDir:
                sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end -}}
