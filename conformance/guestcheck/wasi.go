package guestcheck

import "github.com/xfhost/xfhost/internal/wasmfile"

// wasiModule is the import module name of WASI preview 1.
const wasiModule = "wasi_snapshot_preview1"

// wasiParams lists the parameters of every WASI preview 1 function, one
// letter per parameter: i for i32, I for i64. Every function returns an i32
// errno except proc_exit, which returns nothing. abi.json describes only the
// xf and clip modules; WASI preview 1 is frozen, so its signatures are
// written down here once, and a test compares them with what the wazero
// engine provides.
var wasiParams = map[string]string{
	"args_get":                "ii",
	"args_sizes_get":          "ii",
	"environ_get":             "ii",
	"environ_sizes_get":       "ii",
	"clock_res_get":           "ii",
	"clock_time_get":          "iIi",
	"fd_advise":               "iIIi",
	"fd_allocate":             "iII",
	"fd_close":                "i",
	"fd_datasync":             "i",
	"fd_fdstat_get":           "ii",
	"fd_fdstat_set_flags":     "ii",
	"fd_fdstat_set_rights":    "iII",
	"fd_filestat_get":         "ii",
	"fd_filestat_set_size":    "iI",
	"fd_filestat_set_times":   "iIIi",
	"fd_pread":                "iiiIi",
	"fd_prestat_get":          "ii",
	"fd_prestat_dir_name":     "iii",
	"fd_pwrite":               "iiiIi",
	"fd_read":                 "iiii",
	"fd_readdir":              "iiiIi",
	"fd_renumber":             "ii",
	"fd_seek":                 "iIii",
	"fd_sync":                 "i",
	"fd_tell":                 "ii",
	"fd_write":                "iiii",
	"path_create_directory":   "iii",
	"path_filestat_get":       "iiiii",
	"path_filestat_set_times": "iiiiIIi",
	"path_link":               "iiiiiii",
	"path_open":               "iiiiiIIii",
	"path_readlink":           "iiiiii",
	"path_remove_directory":   "iii",
	"path_rename":             "iiiiii",
	"path_symlink":            "iiiii",
	"path_unlink_file":        "iii",
	"poll_oneoff":             "iiii",
	"proc_exit":               "i",
	"proc_raise":              "i",
	"sched_yield":             "",
	"random_get":              "ii",
	"sock_accept":             "iii",
	"sock_recv":               "iiiiii",
	"sock_send":               "iiiii",
	"sock_shutdown":           "ii",
}

// wasiSignature returns the signature of the WASI preview 1 function name.
func wasiSignature(name string) (wasmfile.FuncType, bool) {
	params, ok := wasiParams[name]
	if !ok {
		return wasmfile.FuncType{}, false
	}
	var ft wasmfile.FuncType
	for _, c := range params {
		if c == 'I' {
			ft.Params = append(ft.Params, wasmfile.I64)
		} else {
			ft.Params = append(ft.Params, wasmfile.I32)
		}
	}
	if name != "proc_exit" {
		ft.Results = []wasmfile.ValType{wasmfile.I32}
	}
	return ft, true
}
