//go:build linux || darwin || freebsd

// uname(2) and statfs(2) exist on every Unix this package knows in detail;
// only the field types of their results differ, which the conversions
// below absorb.

package hostinfo

import "golang.org/x/sys/unix"

// uname returns the kernel's name and release, e.g. "Linux", "6.1.0".
func uname() (sysname, release string) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", ""
	}
	return unix.ByteSliceToString(u.Sysname[:]), unix.ByteSliceToString(u.Release[:])
}

func kernel() string {
	_, release := uname()
	return release
}

// unameOS names the system when nothing better is known, e.g. "FreeBSD
// 14.0-RELEASE".
func unameOS() string {
	sysname, release := uname()
	if sysname == "" {
		return ""
	}
	return sysname + " " + release
}

// diskFree is the space an unprivileged process may use in dir.
func diskFree(dir string) uint64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0
	}
	// Bavail is signed on FreeBSD and goes negative when the reserve
	// for root is in use.
	if int64(st.Bavail) <= 0 { //nolint:unconvert // uint64 on Linux and macOS
		return 0
	}
	return uint64(st.Bavail) * uint64(st.Bsize) //nolint:unconvert // int64 on FreeBSD, uint32 on macOS
}
