package wasip1

import (
	"strconv"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// errno is a WASI preview 1 error number, the result of almost every
// function.
type errno uint16

// The error numbers this implementation returns. WASI numbers its errnos in
// alphabetical order of their POSIX names, which is why they bear no relation
// to Linux's.
const (
	errnoSuccess     errno = 0
	errnoAcces       errno = 2
	errnoAgain       errno = 6
	errnoBadf        errno = 8
	errnoExist       errno = 20
	errnoFault       errno = 21
	errnoIntr        errno = 27
	errnoInval       errno = 28
	errnoIo          errno = 29
	errnoIsdir       errno = 31
	errnoLoop        errno = 32
	errnoMfile       errno = 33
	errnoNametoolong errno = 37
	errnoNoent       errno = 44
	errnoNosys       errno = 52
	errnoNotdir      errno = 54
	errnoNotempty    errno = 55
	errnoNotsock     errno = 57
	errnoNotsup      errno = 58
	errnoPerm        errno = 63
	errnoRange       errno = 68
	errnoRofs        errno = 69
)

var errnoNames = map[errno]string{
	errnoSuccess:     "ESUCCESS",
	errnoAcces:       "EACCES",
	errnoAgain:       "EAGAIN",
	errnoBadf:        "EBADF",
	errnoExist:       "EEXIST",
	errnoFault:       "EFAULT",
	errnoIntr:        "EINTR",
	errnoInval:       "EINVAL",
	errnoIo:          "EIO",
	errnoIsdir:       "EISDIR",
	errnoLoop:        "ELOOP",
	errnoMfile:       "EMFILE",
	errnoNametoolong: "ENAMETOOLONG",
	errnoNoent:       "ENOENT",
	errnoNosys:       "ENOSYS",
	errnoNotdir:      "ENOTDIR",
	errnoNotempty:    "ENOTEMPTY",
	errnoNotsock:     "ENOTSOCK",
	errnoNotsup:      "ENOTSUP",
	errnoPerm:        "EPERM",
	errnoRange:       "ERANGE",
	errnoRofs:        "EROFS",
}

func (e errno) String() string {
	if name, ok := errnoNames[e]; ok {
		return name
	}
	return "errno(" + strconv.Itoa(int(e)) + ")"
}

// toErrno converts the errno of a wazero file system to WASI's. The table is
// wazero's own (internal/wasip1.ToErrno in v1.12), so a guest sees the same
// number from the same file system on either implementation; an Errno outside
// wazero's set becomes EIO there and here.
func toErrno(e experimentalsys.Errno) errno {
	switch e {
	case 0:
		return errnoSuccess
	case experimentalsys.EACCES:
		return errnoAcces
	case experimentalsys.EAGAIN:
		return errnoAgain
	case experimentalsys.EBADF:
		return errnoBadf
	case experimentalsys.EEXIST:
		return errnoExist
	case experimentalsys.EFAULT:
		return errnoFault
	case experimentalsys.EINTR:
		return errnoIntr
	case experimentalsys.EINVAL:
		return errnoInval
	case experimentalsys.EIO:
		return errnoIo
	case experimentalsys.EISDIR:
		return errnoIsdir
	case experimentalsys.ELOOP:
		return errnoLoop
	case experimentalsys.ENAMETOOLONG:
		return errnoNametoolong
	case experimentalsys.ENOENT:
		return errnoNoent
	case experimentalsys.ENOSYS:
		return errnoNosys
	case experimentalsys.ENOTDIR:
		return errnoNotdir
	case experimentalsys.ERANGE:
		return errnoRange
	case experimentalsys.ENOTEMPTY:
		return errnoNotempty
	case experimentalsys.ENOTSOCK:
		return errnoNotsock
	case experimentalsys.ENOTSUP:
		return errnoNotsup
	case experimentalsys.EPERM:
		return errnoPerm
	case experimentalsys.EROFS:
		return errnoRofs
	}
	return errnoIo
}
