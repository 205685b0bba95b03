{{/*
Shared pieces of the Sibyl chart. Every app runs the same image as `sibyl <app>`; settings reach it as
SIBYL_* variables (docs/configuration.md), DATABASE_URL and REDIS_URL from Secrets.
*/}}

{{- define "sibyl.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* The resource name prefix; kept short so that "<prefix>-worker-<pool>" stays a valid name. */}}
{{- define "sibyl.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "sibyl.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of one component. Call with (dict "ctx" $ "component" "gateway"). */}}
{{- define "sibyl.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sibyl.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of one component's resources. Call with (dict "ctx" $ "component" "gateway"). */}}
{{- define "sibyl.labels" -}}
helm.sh/chart: {{ include "sibyl.chart" .ctx }}
{{ include "sibyl.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: sibyl
{{- end -}}

{{- define "sibyl.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "sibyl.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sibyl.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Kubernetes sends SIGTERM after the preStop sleep; Sibyl then drains for up to exitTimeoutSecs and exits 0.
The grace period covers both, plus 10 s, so that a drain is never cut short by SIGKILL.
*/}}
{{- define "sibyl.terminationGracePeriodSeconds" -}}
{{- add .Values.config.preStopSleepSecs .Values.config.exitTimeoutSecs 10 -}}
{{- end -}}

{{/* Pod-level settings shared by every app: non-root, numeric user of the image, no API token. */}}
{{- define "sibyl.podSpecCommon" -}}
serviceAccountName: {{ include "sibyl.serviceAccountName" . }}
automountServiceAccountToken: false
terminationGracePeriodSeconds: {{ include "sibyl.terminationGracePeriodSeconds" . }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{- define "sibyl.containerSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
{{- end -}}

{{/* Sleep before SIGTERM so that endpoints stop sending new work first (config.preStopSleepSecs). */}}
{{- define "sibyl.lifecycle" -}}
{{- if gt (int .Values.config.preStopSleepSecs) 0 -}}
lifecycle:
  preStop:
    exec:
      command: ["sleep", "{{ .Values.config.preStopSleepSecs }}"]
{{- end }}
{{- end -}}

{{/* Settings every app reads. */}}
{{- define "sibyl.commonEnv" -}}
- name: SIBYL_LOG_FORMAT
  value: {{ .Values.config.logFormat | quote }}
- name: SIBYL_LOG_VERBOSE
  value: {{ .Values.config.logVerbose | quote }}
- name: SIBYL_EXIT_TIMEOUT_SECS
  value: {{ .Values.config.exitTimeoutSecs | quote }}
{{- end -}}

{{- define "sibyl.connectionsSecretName" -}}
{{- printf "%s-connections" (include "sibyl.fullname" .) -}}
{{- end -}}

{{- define "sibyl.databaseEnv" -}}
{{- if and (not .Values.database.existingSecret) (not .Values.database.url) -}}
{{- fail "database: set database.url or database.existingSecret (the registry's PostgreSQL URL)" -}}
{{- end -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ default (include "sibyl.connectionsSecretName" .) .Values.database.existingSecret }}
      key: {{ ternary .Values.database.existingSecretKey "DATABASE_URL" (ne .Values.database.existingSecret "") }}
{{- end -}}

{{- define "sibyl.redisEnv" -}}
{{- if and (not .Values.redis.existingSecret) (not .Values.redis.url) -}}
{{- fail "redis: set redis.url or redis.existingSecret (the coordination Redis URL)" -}}
{{- end -}}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ default (include "sibyl.connectionsSecretName" .) .Values.redis.existingSecret }}
      key: {{ ternary .Values.redis.existingSecretKey "REDIS_URL" (ne .Values.redis.existingSecret "") }}
{{- end -}}

{{- define "sibyl.managementUrl" -}}
{{- printf "http://%s-management:8003" (include "sibyl.fullname" .) -}}
{{- end -}}

{{- define "sibyl.routerAddress" -}}
{{- printf "%s-router:8004" (include "sibyl.fullname" .) -}}
{{- end -}}

{{/* A small emptyDir for /tmp: the root filesystem is read-only. */}}
{{- define "sibyl.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- end -}}
