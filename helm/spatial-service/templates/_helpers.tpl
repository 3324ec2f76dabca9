{{/* Name of the service: the chart name unless overridden. */}}
{{- define "spatial-service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: the release name when it already contains the chart name. */}}
{{- define "spatial-service.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "spatial-service.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "spatial-service.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "spatial-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "spatial-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "spatial-service.labels" -}}
{{ include "spatial-service.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: spatial-properties
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "spatial-service.serviceAccountName" -}}
{{- default (include "spatial-service.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* The image reference: repository@digest when image.digest is set (how the
infra stacks pin privileged workloads), else repository:tag, and a tag is then
required so every rollout is traceable to a commit.
`helm lint` turns a missing required value into an empty string and logs the
message; the caller quotes the result so lint shows that message instead of
tripping over the YAML an empty value would produce. */}}
{{- define "spatial-service.image" -}}
{{- $repo := required "image.repository is required (the ECR repository URL)" .Values.image.repository -}}
{{- if .Values.image.digest -}}
{{- /* the infra stacks deploy privileged workloads by digest (envs/<env>.yaml workloads.<name>.digest) */ -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- $tag := required "image.tag is required (the commit SHA the workflow built)" .Values.image.tag -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}
