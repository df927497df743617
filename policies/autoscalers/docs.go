package autoscalers

import (
	"fmt"
	"strings"
)

// Markdown renders the catalogue as a table for the rule's documentation.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| kind | scales | mode → what its controller does | source |\n| --- | --- | --- | --- |\n")
	for _, a := range Catalogue {
		var modes []string
		for _, m := range a.Modes {
			modes = append(modes, fmt.Sprintf("%s → %s", strings.ReplaceAll(m.Name, "{spec.scalingStrategy}", "KPA or APA"), m.scalingText()))
		}
		fmt.Fprintf(&b, "| %s `%s` (%s) | %s | %s | %s |\n", a.Project, a.GVK.Kind, a.GVK.GroupVersion(), a.Target.text(), strings.Join(modes, "; "), a.Source)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (m Mode) scalingText() string {
	switch m.Scaling {
	case CreatesHPA:
		if m.Generated != "" {
			return fmt.Sprintf("creates the HPA `%s`", m.Generated)
		}
		return "creates an HPA for each revision"
	case CreatesScaledObject:
		return fmt.Sprintf("creates the ScaledObject `%s`", m.Generated)
	}
	return "writes the replicas itself"
}

func (t Target) text() string {
	switch {
	case t.Self:
		return "itself, through /scale"
	case len(t.Ref) > 0:
		return "`" + strings.Join(t.Ref, ".") + "`"
	}
	return fmt.Sprintf("the %s %s `%s`", t.APIVersion, t.Kind, strings.Join(t.Names, "` or `"))
}
