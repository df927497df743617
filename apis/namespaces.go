package apis

// IgnoreLabel opts a namespace out of scaleguard: with the value "true",
// no webhook is called for its objects (every webhook configuration's
// namespaceSelector excludes it), and the pause keeper and the audit leave
// them alone.
const IgnoreLabel = "scaleguard.io/ignore"

// Ignored reports whether a namespace with these labels has opted out.
func Ignored(namespaceLabels map[string]string) bool {
	return namespaceLabels[IgnoreLabel] == "true"
}
