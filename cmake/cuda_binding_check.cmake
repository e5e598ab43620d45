# Where LibTorch has no CUDA (Debian's, this project's CI) the at::Tensor binding of the CUDA
# kernels and the code under LNTUNE_WITH_CUDA (CUDA graphs, the CUDA branches of the ops) are not
# built, so a mistake there would first show on the GPU machine, in its scarce time. They are
# still compiled here, syntax only, against LibTorch's CUDA headers (Debian ships them) and the
# CUDA toolkit's: part of the build, so the build fails if they do not compile. Each file has its
# own stamp and dependency file, so an edit re-checks only what it touches (the dependency file
# names the stamp relative to the build folder, as Ninja wants).
if(NOT CMAKE_CUDA_COMPILER OR LNTUNE_CUDA_BINDING)
  return()
endif()
set(_torch_cuda_header "")
foreach(dir ${TORCH_INCLUDE_DIRS})
  if(EXISTS "${dir}/ATen/cuda/CUDAGraph.h" AND EXISTS "${dir}/c10/cuda/CUDAStream.h")
    set(_torch_cuda_header "${dir}")
  endif()
endforeach()
if(NOT _torch_cuda_header)
  message(STATUS "lntune: LibTorch's CUDA headers not found, the CUDA binding is not syntax-checked")
  return()
endif()
# The one header a CUDA build of LibTorch generates at its own configure time.
set(_stub "${CMAKE_BINARY_DIR}/cuda_binding_check/include")
file(WRITE "${_stub}/c10/cuda/impl/cuda_cmake_macros.h" "// stands in for the header CUDA builds of LibTorch generate\n")
# The binding's own files, and every source of lntune_lib with an LNTUNE_WITH_CUDA branch, found
# by reading them at configure time (CI configures afresh; a local build folder sees a file that
# newly gains such a branch at its next configure).
set(_checked ${LNTUNE_CUDA_BINDING_SOURCES})
get_target_property(_lib_sources lntune_lib SOURCES)
foreach(path ${_lib_sources})
  lntune_source_name("${path}" abs rel name)
  if(abs MATCHES "\\.cpp$" AND EXISTS "${abs}")
    file(STRINGS "${abs}" _cuda_lines REGEX "LNTUNE_WITH_CUDA" LIMIT_COUNT 1)
    if(_cuda_lines)
      list(APPEND _checked "${abs}")
    endif()
  endif()
endforeach()
list(REMOVE_DUPLICATES _checked)
set(_stamps "")
foreach(path ${_checked})
  lntune_source_name("${path}" abs rel name)
  set(stamp "${CMAKE_BINARY_DIR}/cuda_binding_check/${name}.ok")
  add_custom_command(
    OUTPUT "${stamp}"
    COMMAND ${CMAKE_CXX_COMPILER} -std=gnu++17 -fsyntax-only -DLNTUNE_WITH_CUDA=1
            "-D$<JOIN:$<TARGET_PROPERTY:lntune_lib,COMPILE_DEFINITIONS>,;-D>"
            "$<TARGET_PROPERTY:lntune_lib,COMPILE_OPTIONS>"
            "-I$<JOIN:$<TARGET_PROPERTY:lntune_lib,INCLUDE_DIRECTORIES>,;-I>"
            -I${_stub} "-I$<JOIN:${CMAKE_CUDA_TOOLKIT_INCLUDE_DIRECTORIES},;-I>"
            -include ${PROJECT_SOURCE_DIR}/src/pch.h -MD -MF "${stamp}.d" -MT "cuda_binding_check/${name}.ok"
            ${abs}
    COMMAND ${CMAKE_COMMAND} -E touch "${stamp}"
    DEPENDS ${abs}
    DEPFILE "${stamp}.d"
    COMMENT "CUDA binding, syntax only: ${rel}"
    COMMAND_EXPAND_LISTS VERBATIM)
  list(APPEND _stamps "${stamp}")
endforeach()
add_custom_target(lntune_cuda_binding_check ALL DEPENDS ${_stamps})
message(STATUS "lntune: the CUDA binding is syntax-checked against ${_torch_cuda_header}")
