package check

import (
	"fmt"
	"io"
	"strings"
)

// githubLevels maps actions to workflow-command annotation levels.
var githubLevels = map[string]string{"deny": "error", "warn": "warning", "mutate": "notice"}

// writeGitHub prints GitHub Actions workflow commands
// (::error file=F,line=L,title=T::message), which the runner turns into
// annotations on the manifest lines of a pull request, then the summary
// as a plain line.
func writeGitHub(w io.Writer, rep Report) error {
	var b strings.Builder
	for _, f := range rep.Findings {
		props := []string{}
		if f.File != "-" {
			props = append(props, "file="+githubProperty(f.File), fmt.Sprintf("line=%d", f.Line))
		}
		props = append(props, "title="+githubProperty("scaleguard "+f.Rule))
		msg := fmt.Sprintf("%s %s/%s: %s", f.Kind, f.Namespace, f.Name, f.Message)
		if f.Field != "" {
			msg = fmt.Sprintf("%s %s/%s: %s: %s", f.Kind, f.Namespace, f.Name, f.Field, f.Message)
		}
		fmt.Fprintf(&b, "::%s %s::%s\n", githubLevels[f.Action], strings.Join(props, ","), githubData(msg))
	}
	for _, e := range rep.Errors {
		props := "title=" + githubProperty("scaleguard: input error")
		if e.File != "-" && e.File != "" {
			props = "file=" + githubProperty(e.File) + fmt.Sprintf(",line=%d,", max(e.Line, 1)) + props
		}
		fmt.Fprintf(&b, "::error %s::%s\n", props, githubData(e.Message))
	}
	b.WriteString("scaleguard: " + rep.Summary.String() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// githubData escapes a workflow command's message: Safe takes out every
// line break and control character, and % is escaped as the runner
// decodes %25, %0D and %0A.
func githubData(s string) string {
	return strings.ReplaceAll(Safe(s), "%", "%25")
}

// githubProperty escapes a workflow command's property value, where ":"
// and "," also delimit.
func githubProperty(s string) string {
	return strings.NewReplacer(":", "%3A", ",", "%2C").Replace(githubData(s))
}
