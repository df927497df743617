package bench

import "syscall"

// rusageThread is Linux's RUSAGE_THREAD, which package syscall does not
// name.
const rusageThread = 1

// ThreadCPU is the user plus system time of the calling OS thread, in
// nanoseconds (microsecond resolution); call it with the goroutine locked
// to its thread. Unlike wall time, it does not grow while other work on a
// shared machine holds the cores; it leaves out what other threads do for
// the caller (the garbage collector's background workers).
func ThreadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
