{{- define "spatial-service.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "spatial-service.fullname" . }}
  labels:
    {{- include "spatial-service.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  selector:
    matchLabels:
      {{- include "spatial-service.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "spatial-service.labels" . | nindent 8 }}
    spec:
      serviceAccountName: {{ include "spatial-service.serviceAccountName" . }}
      automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
      {{- /* The kit's drain delay (10 s) plus shutdown grace (15 s) fit inside it. */}}
      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds | default 30 }}
      securityContext:
        runAsNonRoot: true
        runAsUser: {{ .Values.securityContext.runAsUser }}
        runAsGroup: {{ .Values.securityContext.runAsUser }}
        fsGroup: {{ .Values.securityContext.runAsUser }}
        seccompProfile:
          type: RuntimeDefault
      {{- with .Values.topologySpread }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "spatial-service.selectorLabels" $ | nindent 14 }}
      {{- end }}
      containers:
        - name: {{ include "spatial-service.name" . }}
          image: {{ include "spatial-service.image" . | quote }}
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: {{ .Values.service.targetPort }}
              protocol: TCP
            {{- with .Values.metrics.port }}
            {{- /* the kit's operations listener: /healthz, /readyz, /metrics */}}
            - name: metrics
              containerPort: {{ . }}
              protocol: TCP
            {{- end }}
          {{- with .Values.env }}
          env:
            {{- range $name, $value := . }}
            - name: {{ $name }}
              value: {{ $value | quote }}
            {{- end }}
          {{- end }}
          {{- /* probes.enabled: false only for a placeholder image that serves nothing */}}
          {{- if ne .Values.probes.enabled false }}
          livenessProbe:
            httpGet:
              path: {{ .Values.probes.livenessPath }}
              port: http
            initialDelaySeconds: 10
            periodSeconds: 10
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: {{ .Values.probes.readinessPath }}
              port: http
            periodSeconds: 5
            failureThreshold: 3
          {{- end }}
          resources:
            {{- required "resources are required: set requests and limits" .Values.resources | toYaml | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            capabilities:
              drop: ["ALL"]
          volumeMounts:
            {{- with .Values.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            - name: tmp
              mountPath: /tmp
      volumes:
        {{- /* e.g. a cert-manager client certificate Secret (helm/edge-sync) */}}
        {{- with .Values.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        # The root filesystem is read-only; /tmp is the one writable place.
        - name: tmp
          emptyDir:
            sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end -}}
