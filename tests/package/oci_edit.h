// Edits of the sample package (oci_fixture.h) for the hostile package-file tests: each Maker
// turns the sample into the bytes of one malicious or broken package file (entries removed,
// added or replaced, JSON documents edited, bytes flipped, raw tar entries appended, or the
// package rewritten from edited writer input).
#ifndef TESSERA_TESTS_PACKAGE_OCI_EDIT_H_
#define TESSERA_TESTS_PACKAGE_OCI_EDIT_H_

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "oci_fixture.h"
#include "package/oci_writer.h"
#include "tar_fixture.h"

namespace tessera::package::fixture {

// What a case starts from: the signed sample package, as bytes and as archive entries.
struct Env {
  const SamplePackage& sample;
  std::vector<Part> parts;
  Bytes bytes;
};

// Builds the bytes of one package file from the sample.
using Maker = std::function<Bytes(Env&)>;
// Names an entry of the sample.
using EntryName = std::function<std::string(const Env&)>;

// "blobs/sha256/<hex of the sample's model>".
std::string ModelBlob(const Env& env);

// Edits the entry list and rewrites the archive with TarWriter.
Maker EditParts(std::function<void(Env&, std::vector<Part>&)> edit);
Maker RemovePart(EntryName name);
Maker AddPart(std::string name, std::string data, bool directory = false);
Maker SetPart(std::string name, std::string data);
// Edits index.json as JSON.
Maker EditIndex(std::function<void(nlohmann::json&)> edit);
// Replaces the OCI manifest (renamed to its new digest, index.json updated).
Maker EditManifestText(std::function<std::string(std::string)> edit);
Maker EditManifest(std::function<void(nlohmann::json&)> edit);
// Flips one bit of byte `offset` of the data of entry `name` in the package file.
Maker FlipDataByte(EntryName name, std::size_t offset);
// Replaces the end marker of the package with raw `entries` and a new end marker.
Maker Append(std::function<std::vector<RawEntry>(const Env&)> entries);
// A package written by WritePackageFile from the sample's input after `edit`.
Maker Repack(std::function<void(PackageFileInput&)> edit);

}  // namespace tessera::package::fixture

#endif  // TESSERA_TESTS_PACKAGE_OCI_EDIT_H_
