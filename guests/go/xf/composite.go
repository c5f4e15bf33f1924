package xf

// The create_output_* helpers of xfworkerutil: they only build the JSON
// values of composite outputs (shapes in params/TYPES.md). File references
// come from Job.UploadFile.

// FileOutput is a composite made of one file: CSV, Bitmap, HTMLDocument,
// ForeignFile, SnapshotMetadata.
type FileOutput struct {
	Type     string `json:"type"`
	Filename string `json:"filename"`
}

// CSV returns a CSV output for an uploaded file.
func CSV(ref string) FileOutput { return FileOutput{Type: "CSV", Filename: ref} }

// Bitmap returns a Bitmap output for an uploaded file.
func Bitmap(ref string) FileOutput { return FileOutput{Type: "Bitmap", Filename: ref} }

// HTMLDocument returns an HTMLDocument output for an uploaded file.
func HTMLDocument(ref string) FileOutput { return FileOutput{Type: "HTMLDocument", Filename: ref} }

// ForeignFile returns a ForeignFile output for an uploaded file.
func ForeignFile(ref string) FileOutput { return FileOutput{Type: "ForeignFile", Filename: ref} }

// SnapshotMetadata returns a SnapshotMetadata output for an uploaded file.
func SnapshotMetadata(ref string) FileOutput {
	return FileOutput{Type: "SnapshotMetadata", Filename: ref}
}

// AdditionalFile is an extra file of an Image or Mesh.
type AdditionalFile struct {
	Filename string `json:"filename"`
	Role     string `json:"role,omitempty"`
}

// ImageOutput is an Image composite: the .omni metadata file, the size and
// the pixel files.
type ImageOutput struct {
	Type            string           `json:"type"`
	Filename        string           `json:"filename"`
	Size            [3]int           `json:"size"`
	Filenames       []string         `json:"filenames,omitempty"`
	AdditionalFiles []AdditionalFile `json:"additional_files,omitempty"`
}

// NewImageOutput returns an Image output for uploaded files. Images made on
// the host are stored more simply with Job.SetOutputImage.
func NewImageOutput(ref string, size [3]int, pixelRefs []string, additional []AdditionalFile) ImageOutput {
	return ImageOutput{Type: "Image", Filename: ref, Size: size, Filenames: pixelRefs, AdditionalFiles: additional}
}

// MeshOutput is a Mesh composite.
type MeshOutput struct {
	Type            string           `json:"type"`
	Filename        string           `json:"filename"`
	Filenames       []string         `json:"filenames,omitempty"`
	AdditionalFiles []AdditionalFile `json:"additional_files,omitempty"`
}

// Mesh returns a Mesh output for uploaded files.
func Mesh(ref string, refs []string, additional []AdditionalFile) MeshOutput {
	return MeshOutput{Type: "Mesh", Filename: ref, Filenames: refs, AdditionalFiles: additional}
}

// EntityOutput is an Entity composite.
type EntityOutput struct {
	Type string `json:"type"`
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

// Entity returns an Entity output.
func Entity(uuid, name string) EntityOutput {
	return EntityOutput{Type: "Entity", UUID: uuid, Name: name}
}
