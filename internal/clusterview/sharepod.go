package clusterview

import (
	"encoding/binary"
	"encoding/json"
	"hash/maphash"
	"maps"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
)

// Tables of the values of pod templates and metadata that the transform
// shares (see share.go).
var (
	resourceLists  = newTable(1024, deepEqual[corev1.ResourceList])
	portLists      = newTable(1024, slices.Equal[[]corev1.ContainerPort])
	containerLists = newTable(1024, deepEqual[[]corev1.Container])
	tolerations    = newTable(256, deepEqual[[]corev1.Toleration])
	affinities     = newTable(256, deepEqual[*corev1.Affinity])
	servicePorts   = newTable(1024, deepEqual[[]corev1.ServicePort])
	ipFamilies     = newTable(64, slices.Equal[[]corev1.IPFamily])
	roleLists      = newTable(256, deepEqual[[]kthenav1alpha1.Role])
	// A trigger's metadata, shared whole when equal, else of interned
	// strings but those naming the object (a query scoped to it).
	triggerMetadata = newTable(4096, maps.Equal[map[string]string])
)

// ResetShared starts every table of shared values over, giving back their
// memory (cached objects keep what they have). Measurements call it so
// that what they weigh holds its own shared values.
func ResetShared() {
	strs.reset()
	labelMaps.reset()
	annotationMaps.reset()
	triggerMetadata.reset()
	resourceLists.reset()
	portLists.reset()
	containerLists.reset()
	tolerations.reset()
	affinities.reset()
	servicePorts.reset()
	ipFamilies.reset()
	roleLists.reset()
}

func deepEqual[T any](a, b T) bool { return reflect.DeepEqual(a, b) }

// shareMeta shares an object's labels and annotations and interns the
// strings of its metadata that repeat across objects.
func shareMeta(m metav1.Object) {
	name := m.GetName()
	m.SetNamespace(intern(m.GetNamespace()))
	m.SetLabels(shareStrings(labelMaps, m.GetLabels(), name))
	m.SetAnnotations(shareStrings(annotationMaps, m.GetAnnotations(), name))
	refs := m.GetOwnerReferences()
	for i := range refs {
		refs[i].APIVersion, refs[i].Kind = intern(refs[i].APIVersion), intern(refs[i].Kind)
	}
	for i, f := range m.GetFinalizers() {
		m.GetFinalizers()[i] = intern(f)
	}
	mfs := m.GetManagedFields()
	for i := range mfs {
		mfs[i].Manager, mfs[i].APIVersion = intern(mfs[i].Manager), intern(mfs[i].APIVersion)
	}
}

// shareTemplate keeps of a pod template its labels (shared) and its
// trimmed spec: no rule reads a template's annotations or other metadata.
func shareTemplate(t *corev1.PodTemplateSpec, name string) {
	t.ObjectMeta = metav1.ObjectMeta{Labels: shareStrings(labelMaps, t.Labels, name)}
	trimPodSpec(&t.Spec)
}

// shareContainers shares a trimmed container list, after sharing its
// containers' ports and resource lists.
func shareContainers(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return cs
	}
	var h maphash.Hash
	h.SetSeed(seed)
	for i := range cs {
		c := &cs[i]
		c.Name, c.Image = intern(c.Name), intern(c.Image)
		c.Ports = sharePorts(c.Ports)
		c.Resources.Requests = shareResources(c.Resources.Requests)
		c.Resources.Limits = shareResources(c.Resources.Limits)
		h.WriteString(c.Name)
		h.WriteByte(0)
		h.WriteString(c.Image)
		h.WriteByte(0)
		writeUint64(&h, hashPorts(c.Ports))
		writeUint64(&h, hashResources(c.Resources.Requests))
		writeUint64(&h, hashResources(c.Resources.Limits))
		for _, cl := range c.Resources.Claims {
			h.WriteString(cl.Name)
			h.WriteByte(0)
			h.WriteString(cl.Request)
			h.WriteByte(0)
		}
		if c.RestartPolicy != nil {
			h.WriteString(string(*c.RestartPolicy))
		}
		h.WriteByte(1)
	}
	return containerLists.share(h.Sum64(), cs, nil)
}

func sharePorts(ps []corev1.ContainerPort) []corev1.ContainerPort {
	if len(ps) == 0 {
		return ps
	}
	return portLists.share(hashPorts(ps), ps, func(ps []corev1.ContainerPort) []corev1.ContainerPort {
		ps = slices.Clip(slices.Clone(ps)) // the object's own may be read already
		for i := range ps {
			ps[i].Name, ps[i].Protocol = intern(ps[i].Name), corev1.Protocol(intern(string(ps[i].Protocol)))
		}
		return ps
	})
}

func hashPorts(ps []corev1.ContainerPort) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, p := range ps {
		h.WriteString(p.Name)
		h.WriteByte(0)
		h.WriteString(string(p.Protocol))
		h.WriteByte(0)
		h.WriteString(p.HostIP)
		h.WriteByte(0)
		writeUint64(&h, uint64(uint32(p.ContainerPort))<<32|uint64(uint32(p.HostPort)))
	}
	return h.Sum64()
}

func shareResources(l corev1.ResourceList) corev1.ResourceList {
	if len(l) == 0 {
		return l
	}
	return resourceLists.share(hashResources(l), l, nil)
}

// hashResources hashes a resource list's names and exact quantities (in
// their canonical form and format: "1" and "1000m" are not shared, since
// rules print what the manifest says), regardless of order.
func hashResources(l corev1.ResourceList) uint64 {
	var sum uint64
	var h maphash.Hash
	h.SetSeed(seed)
	var buf [48]byte
	for name, q := range l {
		h.Reset()
		h.WriteString(string(name))
		h.WriteByte(0)
		digits, exp := q.AsCanonicalBytes(buf[:0])
		h.Write(digits)
		writeUint64(&h, uint64(exp))
		h.WriteString(string(q.Format))
		sum += h.Sum64()
	}
	return sum ^ uint64(len(l))
}

// shareJSON shares a value of a kind seldom large or common enough to
// hash by hand (tolerations, affinity, a Service's ports), hashed by its
// JSON form.
func shareJSON[T any](t *table[T], v T) T {
	raw, err := json.Marshal(v)
	if err != nil {
		return v
	}
	return t.share(maphash.Bytes(seed, raw), v, nil)
}

func writeUint64(h *maphash.Hash, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	h.Write(b[:])
}

// ownValue reports whether a string value belongs to one object (it
// contains the object's name): such values are not interned, so that
// strings that never repeat do not crowd out those that do.
func ownValue(v, name string) bool {
	return name != "" && strings.Contains(v, name)
}
