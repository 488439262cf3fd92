# Every third-party dependency comes from a Debian 12 package; nothing is downloaded at build time.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(DCMTK REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# The `caliper` binary's allocator (docs/adr/0014): mimalloc takes malloc and free for the
# whole process, DCMTK's included. Not in the fuzz build, where ASan owns the allocator.
if(NOT CALIPER_FUZZ)
  find_package(mimalloc 2.0 REQUIRED)
endif()
if(CALIPER_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(CALIPER_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# NIfTI-1/2 through nifti2 (libnifti2-dev). Not find_package(NIFTI): Debian's config file points
# at /usr/lib/libznz.so.3.0.0, which does not exist, and configuration fails. The imported
# target `nifti2` carries the headers, libnifti2, libznz and zlib (for .nii.gz).
find_path(NIFTI2_INCLUDE_DIR nifti2_io.h PATH_SUFFIXES nifti REQUIRED)
find_library(NIFTI2_LIBRARY nifti2 REQUIRED)
find_library(ZNZ_LIBRARY znz REQUIRED)
find_package(ZLIB REQUIRED)
add_library(nifti2 INTERFACE IMPORTED)
target_include_directories(nifti2 INTERFACE ${NIFTI2_INCLUDE_DIR})
target_compile_definitions(nifti2 INTERFACE HAVE_ZLIB)
target_link_libraries(nifti2 INTERFACE ${NIFTI2_LIBRARY} ${ZNZ_LIBRARY} ZLIB::ZLIB m)

# Imaging: JPEG 2000 frames (src/dicom/j2k.cpp), PNG slices (src/dicom/png.cpp) and zstd mask
# storage (src/dicom/zstd.cpp), each behind one bridge file.
pkg_check_modules(OPENJP2 REQUIRED IMPORTED_TARGET libopenjp2)
pkg_check_modules(PNG REQUIRED IMPORTED_TARGET libpng)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)

# Whole-slide images (src/wsi): OpenSlide 3.4.1 reads the slide, libjpeg-turbo writes our tiles.
pkg_check_modules(OPENSLIDE REQUIRED IMPORTED_TARGET openslide)
# The file src/wsi/slide.cpp opens at run time: the SONAME of the library pkg-config names.
find_library(CALIPER_OPENSLIDE_PATH NAMES openslide HINTS ${OPENSLIDE_LIBRARY_DIRS} REQUIRED)
if(NOT CMAKE_OBJDUMP)
  message(FATAL_ERROR "objdump (binutils) is needed to read OpenSlide's SONAME")
endif()
execute_process(COMMAND ${CMAKE_OBJDUMP} -p ${CALIPER_OPENSLIDE_PATH} OUTPUT_VARIABLE _openslide_headers)
string(REGEX MATCH "SONAME +([^\n ]+)" _openslide_soname "${_openslide_headers}")
if(NOT CMAKE_MATCH_1)
  message(FATAL_ERROR "no SONAME in ${CALIPER_OPENSLIDE_PATH}")
endif()
set(CALIPER_OPENSLIDE_LIBRARY ${CMAKE_MATCH_1})
pkg_check_modules(JPEG REQUIRED IMPORTED_TARGET libjpeg)
