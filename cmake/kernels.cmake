# CPU kernels (kernels/*/*_cpu*.cpp: LayerNorm, DyT, dropout): no LibTorch, OpenMP over rows or
# chunks. Each *_cpu_impl.cpp is compiled three times on x86-64 — baseline, AVX2+FMA and AVX-512 —
# and the entry points pick one at run time (kernels/cpu_isa.cpp; LNTUNE_CPU_ISA caps it), as
# torch's own CPU kernels do, so one binary runs everywhere and uses the wide units where present.
find_package(OpenMP REQUIRED COMPONENTS CXX)
set(_lntune_cpu_impl
  ${CMAKE_CURRENT_SOURCE_DIR}/kernels/layernorm/layernorm_cpu_impl.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/kernels/dyt/dyt_cpu_impl.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/kernels/dropout/dropout_cpu_impl.cpp)

function(lntune_cpu_isa_objects name isa)
  add_library(${name} OBJECT ${_lntune_cpu_impl})
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/kernels)
  target_compile_definitions(${name} PRIVATE LNTUNE_ISA=${isa})
  target_link_libraries(${name} PRIVATE OpenMP::OpenMP_CXX)
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  # No FP-exception semantics to keep: lets GCC turn the selects in cpu_math.h into vector blends.
  # No contraction into FMAs: g - mean(g) must cancel exactly (hidden size 1), and the baseline
  # and wider builds then round elementwise results alike.
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${name} PRIVATE -fno-trapping-math -ffp-contract=off ${ARGN})
  endif()
endfunction()

lntune_cpu_isa_objects(lntune_cpu_kernels_base base)
set(_lntune_isa_objects $<TARGET_OBJECTS:lntune_cpu_kernels_base>)
set(LNTUNE_KERNELS_X86 OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64" AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  set(LNTUNE_KERNELS_X86 ON)
  lntune_cpu_isa_objects(lntune_cpu_kernels_avx2 avx2 -mavx2 -mfma)
  # 512-bit vectors: GCC's default tuning prefers 256 even with AVX-512 enabled, which would leave
  # the compute-bound DyT loops (tanh) where the AVX2 build has them.
  lntune_cpu_isa_objects(lntune_cpu_kernels_avx512 avx512 -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma
                         -mprefer-vector-width=512)
  list(APPEND _lntune_isa_objects $<TARGET_OBJECTS:lntune_cpu_kernels_avx2>
       $<TARGET_OBJECTS:lntune_cpu_kernels_avx512>)
endif()

add_library(lntune_cpu_kernels STATIC
  kernels/cpu_isa.cpp
  kernels/layernorm/layernorm_cpu.cpp
  kernels/dyt/dyt_cpu.cpp
  kernels/dropout/dropout_cpu.cpp
  kernels/adamw/adamw_cpu.cpp
  ${_lntune_isa_objects})
target_include_directories(lntune_cpu_kernels PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/kernels)
# PRIVATE: the -fopenmp compile flag stays on these files; the runtime (libgomp, as torch uses)
# still reaches the final link.
target_link_libraries(lntune_cpu_kernels PRIVATE OpenMP::OpenMP_CXX)
set_target_properties(lntune_cpu_kernels PROPERTIES POSITION_INDEPENDENT_CODE ON)
# AdamW rounds as adamw_math.h spells it (no FMA contraction, as the CUDA kernel); no errno from
# sqrtf, so that the loop vectorises.
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  set_source_files_properties(kernels/adamw/adamw_cpu.cpp PROPERTIES
    COMPILE_OPTIONS "-ffp-contract=off;-fno-math-errno;-fno-trapping-math")
endif()
if(LNTUNE_KERNELS_X86)
  target_compile_definitions(lntune_cpu_kernels PRIVATE LNTUNE_KERNELS_X86=1)
endif()
