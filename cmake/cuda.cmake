# kernels/ holds raw-pointer CUDA code with no LibTorch include, so nvcc compiles it on any
# machine that has nvcc (CI included, where no GPU can run it). The at::Tensor binding is
# built only when LibTorch itself has CUDA (the GPU machine).
if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
endif()
include(CheckLanguage)
check_language(CUDA)
set(LNTUNE_CUDA_BINDING OFF)
if(CMAKE_CUDA_COMPILER)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)  # H100/H200; override with -DCMAKE_CUDA_ARCHITECTURES
  endif()
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)
  add_library(lntune_cuda_kernels STATIC
    kernels/cuda_common.cu
    kernels/layernorm/layernorm.cu
    kernels/layernorm/layernorm_v2.cu
    kernels/layernorm/layernorm_v3.cu
    kernels/dyt/dyt.cu
    kernels/dyt/dyt_v2.cu
    kernels/dyt/dyt_v3.cu
    kernels/adamw/adamw.cu
  )
  # No contracted multiply-adds: AdamW rounds as the CPU kernel does (kernels/adamw/adamw_math.h).
  set_source_files_properties(kernels/adamw/adamw.cu PROPERTIES COMPILE_OPTIONS "--fmad=false")
  target_include_directories(lntune_cuda_kernels PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/kernels)
  set_target_properties(lntune_cuda_kernels PROPERTIES POSITION_INDEPENDENT_CODE ON CUDA_SEPARABLE_COMPILATION OFF)
  if(CMAKE_CUDA_ARCHITECTURES)
    message(STATUS "lntune: nvcc ${CMAKE_CUDA_COMPILER_VERSION} found, kernels/ compiled for sm_${CMAKE_CUDA_ARCHITECTURES}")
  else()  # PyTorch's CUDA config turns it OFF and puts its own -gencode flags in CMAKE_CUDA_FLAGS
    message(STATUS "lntune: nvcc ${CMAKE_CUDA_COMPILER_VERSION} found, kernels/ compiled with LibTorch's flags:${CMAKE_CUDA_FLAGS}")
  endif()
else()
  message(STATUS "lntune: no nvcc, kernels/ skipped (CPU build)")
endif()
# The binding (src/ops/*_cuda.cpp) needs a CUDA LibTorch: c10_cuda exists only there (elsewhere
# cmake/cuda_binding_check.cmake compiles it syntax only).
set(LNTUNE_CUDA_BINDING_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/src/ops/norm_cuda.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/src/ops/adamw_cuda.cpp)
if(CMAKE_CUDA_COMPILER AND TARGET c10_cuda)
  set(LNTUNE_CUDA_BINDING ON)
  message(STATUS "lntune: LibTorch has CUDA, building the at::Tensor binding")
endif()

# Where no CUDA LibTorch is (this machine, CI): the same kernels/ sources compiled by the host
# compiler against the CUDA headers, their launches run by kernels/emulation/ on the CPU, so that
# tests/kernels/test_cuda_emulation.cpp runs every kernel version here (docs/kernels.md). On the GPU
# machine the real kernels and their tests run instead.
set(LNTUNE_CUDA_EMULATION OFF)
# A source's absolute path, its path below the project, and a file name made of that path
# (slashes as _), for the files generated per source (here, and by cmake/cuda_binding_check.cmake).
function(lntune_source_name path out_abs out_rel out_name)
  get_filename_component(abs "${path}" ABSOLUTE BASE_DIR "${PROJECT_SOURCE_DIR}")
  file(RELATIVE_PATH rel "${PROJECT_SOURCE_DIR}" "${abs}")
  string(REPLACE "/" "_" name "${rel}")
  set(${out_abs} "${abs}" PARENT_SCOPE)
  set(${out_rel} "${rel}" PARENT_SCOPE)
  set(${out_name} "${name}" PARENT_SCOPE)
endfunction()
if(CMAKE_CUDA_COMPILER AND NOT LNTUNE_CUDA_BINDING)
  get_target_property(_kernel_sources lntune_cuda_kernels SOURCES)
  set(_emulated "")
  foreach(cu ${_kernel_sources})
    lntune_source_name("${cu}" abs rel name)
    # One C++ file per .cu, including it: the .cu keeps its CUDA language for lntune_cuda_kernels.
    set(wrapper "${CMAKE_CURRENT_BINARY_DIR}/cuda_emulation/${name}.cpp")
    file(CONFIGURE OUTPUT "${wrapper}" CONTENT "#include \"${abs}\"\n")
    list(APPEND _emulated "${wrapper}")
  endforeach()
  add_library(lntune_cuda_emulation STATIC kernels/emulation/cuda_emulation.cpp ${_emulated})
  target_compile_definitions(lntune_cuda_emulation PRIVATE LNTUNE_CUDA_EMULATION=1)
  target_include_directories(lntune_cuda_emulation PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/kernels
                             ${CMAKE_CUDA_TOOLKIT_INCLUDE_DIRECTORIES})
  # fp32 arithmetic rounded operation by operation, as the AdamW kernel is compiled (--fmad=false).
  target_compile_options(lntune_cuda_emulation PRIVATE -ffp-contract=off)
  set(LNTUNE_CUDA_EMULATION ON)
  message(STATUS "lntune: kernels/ also built for the CPU under emulation (tests/kernels/test_cuda_emulation.cpp)")
endif()
