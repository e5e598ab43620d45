# NCCL for data parallel on GPUs (src/train/distributed.cpp). PyTorch's CUDA builds carry
# c10d::ProcessGroupNCCL in libtorch_cuda, but their CMake config neither defines the macro that
# un-guards its header (USE_C10D_NCCL) nor points at nccl.h (pip wheels keep it in the
# nvidia-nccl package). So: look for nccl.h, then compile and link a small program against the
# header; only if that works is NCCL used. Anything short of that keeps Gloo (which reduces CUDA
# tensors through host memory) with a message — never a broken build. Debian's CPU LibTorch
# (this machine, CI) has no CUDA: the check is skipped.
option(LNTUNE_USE_NCCL "Use NCCL for data parallel on GPUs where LibTorch has it" ON)
set(LNTUNE_NCCL OFF)
if(LNTUNE_CUDA_BINDING AND LNTUNE_USE_NCCL)
  set(_nccl_hints "")
  set(_nccl_lib_hints "")
  find_package(Python3 COMPONENTS Interpreter QUIET)
  if(Python3_Interpreter_FOUND)
    execute_process(
      COMMAND ${Python3_EXECUTABLE} -c "import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))"
      OUTPUT_VARIABLE _site OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(_site AND IS_DIRECTORY "${_site}/nvidia")
      file(GLOB_RECURSE _nccl_headers LIST_DIRECTORIES false "${_site}/nvidia/*/nccl.h")
      foreach(_h ${_nccl_headers})
        get_filename_component(_d "${_h}" DIRECTORY)
        get_filename_component(_p "${_d}" DIRECTORY)
        list(APPEND _nccl_hints "${_d}")
        list(APPEND _nccl_lib_hints "${_p}/lib")
      endforeach()
    endif()
  endif()
  find_path(LNTUNE_NCCL_INCLUDE_DIR nccl.h HINTS ${_nccl_hints} PATHS /usr/include /usr/local/cuda/include)
  # Inline code in PyTorch's NCCL headers may call NCCL itself: link it where it can be found.
  find_library(LNTUNE_NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${_nccl_lib_hints} PATHS /usr/lib/x86_64-linux-gnu /usr/local/cuda/lib64)
  if(NOT LNTUNE_NCCL_LIBRARY)
    set(LNTUNE_NCCL_LIBRARY "")
  endif()
  if(LNTUNE_NCCL_INCLUDE_DIR)
    include(CheckCXXSourceCompiles)
    # Library files, not TORCH_LIBRARIES: those imported targets name others (protobuf::libprotobuf)
    # that a try_compile project cannot see, and configure would stop with an error.
    set(_torch_files "")
    foreach(_lib torch torch_cpu torch_cuda c10 c10_cuda)
      find_library(_f_${_lib} ${_lib} HINTS "${TORCH_INSTALL_PREFIX}/lib" NO_DEFAULT_PATH)
      if(_f_${_lib})
        list(APPEND _torch_files ${_f_${_lib}})
      endif()
    endforeach()
    set(CMAKE_REQUIRED_INCLUDES ${LNTUNE_NCCL_INCLUDE_DIR} ${TORCH_INCLUDE_DIRS} ${CMAKE_CUDA_TOOLKIT_INCLUDE_DIRECTORIES})
    set(CMAKE_REQUIRED_DEFINITIONS -DUSE_C10D_NCCL=1)
    set(CMAKE_REQUIRED_FLAGS "${TORCH_CXX_FLAGS}")
    set(CMAKE_REQUIRED_LIBRARIES ${_torch_files} ${LNTUNE_NCCL_LIBRARY})
    set(CMAKE_REQUIRED_QUIET ON)
    check_cxx_source_compiles([[
      #include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
      #include <torch/csrc/distributed/c10d/PrefixStore.hpp>
      // Compiled and linked, never run: the calls src/train/distributed.cpp makes.
      int main(int argc, char**) {
        if (argc > 0) return 0;
        auto opts = c10d::ProcessGroupNCCL::Options::create();
        opts->timeout = std::chrono::milliseconds(1000);
        c10::intrusive_ptr<c10d::Store> store;
        auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(c10::make_intrusive<c10d::PrefixStore>("nccl", store), 0, 1, opts);
        std::vector<at::Tensor> t;
        pg->allreduce(t)->wait();
        pg->shutdown();
        return 0;
      }]] LNTUNE_NCCL_COMPILES)
    unset(CMAKE_REQUIRED_INCLUDES)
    unset(CMAKE_REQUIRED_DEFINITIONS)
    unset(CMAKE_REQUIRED_FLAGS)
    unset(CMAKE_REQUIRED_LIBRARIES)
    unset(CMAKE_REQUIRED_QUIET)
    if(LNTUNE_NCCL_COMPILES)
      set(LNTUNE_NCCL ON)
      message(STATUS "lntune: NCCL found (${LNTUNE_NCCL_INCLUDE_DIR}): data parallel on GPUs uses ProcessGroupNCCL")
    else()
      message(STATUS "lntune: nccl.h found but ProcessGroupNCCL does not build against this LibTorch: data parallel on GPUs uses Gloo (the failed check is in the CMake configure log)")
    endif()
  else()
    message(STATUS "lntune: no nccl.h: data parallel on GPUs uses Gloo")
  endif()
endif()
