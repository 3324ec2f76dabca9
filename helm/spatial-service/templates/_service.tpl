{{- define "spatial-service.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "spatial-service.fullname" . }}
  labels:
    {{- include "spatial-service.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "spatial-service.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
    {{- with .Values.metrics.port }}
    - name: metrics
      port: {{ . }}
      targetPort: metrics
      protocol: TCP
    {{- end }}
{{- end -}}
