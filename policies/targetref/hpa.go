package targetref

import (
	"fmt"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/autoscalers"
)

// checkHPA warns about an HPA a person wrote whose target is not in the
// view while a workload of a similar name is: the name a chart hardcodes
// where the release prefixes it. A target merely missing is not judged
// (an HPA may well be applied before its workload), and nothing here is
// ever a denial.
func checkHPA(hpa *autoscalingv2.HorizontalPodAutoscaler, in *policies.Input) []policies.Finding {
	if metav1.GetControllerOfNoCopy(hpa) != nil {
		return nil // generated: its owner's target is judged.
	}
	target := policies.HPATarget(hpa)
	target.Namespace = in.Namespace()
	if target.Name == "" || !policies.ViewsKind(target.GroupKind()) {
		return nil
	}
	if _, ok := policies.LookupWorkload(in.View, target); ok {
		return nil
	}
	if target.GroupKind() == policies.DeploymentKind {
		if _, ok := generatingInferenceService(in.View, target.Namespace, target.Name); ok {
			return nil
		}
	}
	if _, ok := autoscalers.GeneratesWorkload(in.View, target); ok {
		return nil
	}
	similar := similarWorkloads(in.View, target)
	if len(similar) == 0 {
		return nil
	}
	quoted := make([]string, len(similar))
	for i, s := range similar {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	fix := "if that is the workload to scale, write scaleTargetRef.name: " + similar[0]
	if len(similar) > 1 {
		fix = "if one of them is the workload to scale, write its name in scaleTargetRef.name"
	}
	return []policies.Finding{policies.Warnf(field.NewPath("spec", "scaleTargetRef", "name"),
		"%s does not exist in namespace %q yet, but the namespace has %s %s of a similar name (a name hardcoded where a release prefixes it?); the HPA scales nothing until its target exists: %s",
		describe(target), target.Namespace, target.Kind, strings.Join(quoted, ", "), fix)}
}

// similarWorkloads lists the workloads of the target's kind and namespace
// whose names are similar to the target's: one is the other with a
// dash-separated prefix or suffix (a release name), or they differ by at
// most two characters.
func similarWorkloads(view policies.ClusterView, target policies.WorkloadRef) []string {
	var objs []client.Object
	switch target.GroupKind() {
	case policies.DeploymentKind:
		for _, d := range view.Deployments(target.Namespace) {
			objs = append(objs, d)
		}
	case policies.StatefulSetKind:
		for _, s := range view.StatefulSets(target.Namespace) {
			objs = append(objs, s)
		}
	case policies.ModelServingKind:
		for _, m := range view.ModelServings(target.Namespace) {
			objs = append(objs, m)
		}
	case policies.LeaderWorkerSetKind:
		for _, l := range view.LeaderWorkerSets(target.Namespace) {
			objs = append(objs, l)
		}
	}
	var out []string
	for _, o := range objs {
		if similarName(target.Name, o.GetName()) {
			out = append(out, o.GetName())
		}
	}
	return out
}

func similarName(a, b string) bool {
	if a == b {
		return false
	}
	affixed := func(short, long string) bool {
		return strings.HasPrefix(long, short+"-") || strings.HasSuffix(long, "-"+short)
	}
	if affixed(a, b) || affixed(b, a) {
		return true
	}
	return min(len(a), len(b)) >= 5 && policies.EditDistance(a, b, 2) <= 2
}
