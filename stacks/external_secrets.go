package stacks

// secretStore is a ClusterSecretStore on this env's Secrets Manager that
// only ExternalSecrets in namespace may use (its conditions). With auth set
// (a provider auth block, e.g. a jwt serviceAccountRef) the store signs in
// as that service account instead of the controller's own role.
func secretStore(name, region, namespace string, auth map[string]any) map[string]any {
	aws := map[string]any{"service": "SecretsManager", "region": region}
	if auth != nil {
		aws["auth"] = auth
	}
	return map[string]any{
		"apiVersion": ExternalSecretsAPI, "kind": "ClusterSecretStore",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"provider":   map[string]any{"aws": aws},
			"conditions": []any{map[string]any{"namespaces": []any{namespace}}},
		},
	}
}

// externalSecret copies from store into the Secret name in namespace,
// hourly; source is the spec's "data" or "dataFrom". The Secret is owned by
// the ExternalSecret and kept if the ExternalSecret goes (the last good
// copy survives a source that is briefly unreadable).
func externalSecret(name, namespace, store string, source map[string]any) map[string]any {
	spec := map[string]any{
		"refreshInterval": "1h",
		"secretStoreRef":  map[string]any{"kind": "ClusterSecretStore", "name": store},
		"target":          map[string]any{"name": name, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
	}
	for k, v := range source {
		spec[k] = v
	}
	return map[string]any{
		"apiVersion": ExternalSecretsAPI, "kind": "ExternalSecret",
		"metadata": map[string]any{"name": name, "namespace": namespace},
		"spec":     spec,
	}
}
