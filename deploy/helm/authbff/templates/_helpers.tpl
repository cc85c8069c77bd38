{{/* The chart's name. */}}
{{- define "authbff.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name, used for every object. */}}
{{- define "authbff.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "authbff.selectorLabels" -}}
app.kubernetes.io/name: {{ include "authbff.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "authbff.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "authbff.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "authbff.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "authbff.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret mounted as files: the existing one or the chart's. */}}
{{- define "authbff.secretName" -}}
{{- default (include "authbff.fullname" .) .Values.existingSecret.name -}}
{{- end -}}

{{/* Whether SESSION_STORE holds a password (it then lives in the Secret). */}}
{{- define "authbff.storeHasPassword" -}}
{{- $r := .Values.sessionStore.redis -}}
{{- if and (has .Values.sessionStore.type (list "redis" "sentinel" "cluster")) (or $r.password $r.sentinelPassword) -}}true{{- end -}}
{{- if and (eq .Values.sessionStore.type "postgres") .Values.sessionStore.postgres.password -}}true{{- end -}}
{{- end -}}

{{/* SESSION_STORE built from sessionStore (password included when set). */}}
{{- define "authbff.storeURL" -}}
{{- $s := .Values.sessionStore -}}
{{- $r := $s.redis -}}
{{- if eq $s.type "memory" -}}memory
{{- else if eq $s.type "bolt" -}}bolt:/data/sessions.db
{{- else if eq $s.type "postgres" -}}
{{- $p := $s.postgres -}}
{{- if not $p.address -}}{{- fail "sessionStore.type postgres needs sessionStore.postgres.address (host:port)" -}}{{- end -}}
{{- $user := "" -}}
{{- if $p.password -}}
{{- $user = printf "%s:%s@" ($p.username | urlquery | replace "+" "%20") ($p.password | urlquery | replace "+" "%20") -}}
{{- else if $p.username -}}
{{- $user = printf "%s@" ($p.username | urlquery | replace "+" "%20") -}}
{{- end -}}
{{- $q := dict "sslmode" (toString $p.sslmode) -}}
{{- if $p.schema }}{{ $_ := set $q "schema" $p.schema }}{{ end -}}
{{- range $k, $v := $p.params }}{{ $_ := set $q $k (toString $v) }}{{ end -}}
{{- $parts := list -}}
{{- range $k := keys $q | sortAlpha }}{{ $parts = append $parts (printf "%s=%s" $k (get $q $k | urlquery)) }}{{ end -}}
{{- printf "postgres://%s%s/%s?%s" $user $p.address ($p.database | urlquery) (join "&" $parts) -}}
{{- else -}}
{{- if not (has $s.type (list "redis" "sentinel" "cluster")) -}}{{- fail (printf "sessionStore.type %q is not memory, bolt, redis, sentinel, cluster or postgres" $s.type) -}}{{- end -}}
{{- if not $r.addresses -}}{{- fail (printf "sessionStore.type %s needs sessionStore.redis.addresses (host:port ...)" $s.type) -}}{{- end -}}
{{- $user := "" -}}
{{- if or $r.username $r.password -}}
{{- $user = printf "%s:%s@" ($r.username | urlquery | replace "+" "%20") ($r.password | urlquery | replace "+" "%20") -}}
{{- end -}}
{{- $q := dict -}}
{{- range $k, $v := $r.params }}{{ $_ := set $q $k (toString $v) }}{{ end -}}
{{- if eq $s.type "redis" -}}
{{- printf "%s://%s%s/%d" (ternary "rediss" "redis" (eq (toString $r.tls) "true")) $user (first $r.addresses) (int $r.db) -}}
{{- else if eq $s.type "sentinel" -}}
{{- $_ := set $q "db" (toString (int $r.db)) -}}
{{- if $r.sentinelPassword }}{{ $_ := set $q "sentinel_password" $r.sentinelPassword }}{{ end -}}
{{- printf "redis-sentinel://%s%s/%s" $user (join "," $r.addresses) $r.sentinelMaster -}}
{{- else if eq $s.type "cluster" -}}
{{- printf "redis-cluster://%s%s" $user (join "," $r.addresses) -}}
{{- else -}}
{{- fail (printf "sessionStore.type %q is not memory, bolt, redis, sentinel, cluster or postgres" $s.type) -}}
{{- end -}}
{{- if $q -}}
{{- $parts := list -}}
{{- range $k := keys $q | sortAlpha }}{{ $parts = append $parts (printf "%s=%s" $k (get $q $k | urlquery)) }}{{ end -}}
{{- printf "?%s" (join "&" $parts) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The variable names the mounted Secret holds, sorted: each is read by
authbff from the file /etc/authbff/secrets/<NAME> through <NAME>_FILE.
*/}}
{{- define "authbff.secretKeys" -}}
{{- $keys := list -}}
{{- if .Values.existingSecret.name -}}
{{- $keys = .Values.existingSecret.keys -}}
{{- else -}}
{{- $keys = keys .Values.secrets.values -}}
{{- if include "authbff.storeHasPassword" . -}}{{- $keys = append $keys "SESSION_STORE" -}}{{- end -}}
{{- end -}}
{{- range $k := $keys -}}
{{- if not (regexMatch "^[A-Z][A-Z0-9_]*$" $k) -}}
{{- fail (printf "secret key %q is not a variable name (A-Z, 0-9, _), e.g. NEXTAUTH_SECRET" $k) -}}
{{- end -}}
{{- end -}}
{{- $keys | uniq | sortAlpha | join "," -}}
{{- end -}}
