# Runs spotflow-make-test-movie for every pixel type and checks that the
# output is complete and depends only on the seed.
# Usage: cmake -DTOOL=<exe> -DOUT=<dir> -P check.cmake
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})

function(make_movie name dtype seed)
  execute_process(
    COMMAND ${TOOL} --out ${OUT}/${name}.tif --truth ${OUT}/${name}.csv
      --frames 3 --size 16 --spots 2 --dtype ${dtype} --seed ${seed}
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${dtype}: exit ${rc}: ${err}")
  endif()
endfunction()

foreach(dtype uint8 uint16 uint32 int16 float32)
  make_movie(${dtype}_a ${dtype} 7)
  make_movie(${dtype}_b ${dtype} 7)
  file(SHA256 ${OUT}/${dtype}_a.tif a)
  file(SHA256 ${OUT}/${dtype}_b.tif b)
  if(NOT a STREQUAL b)
    message(FATAL_ERROR "${dtype}: two runs with one seed differ")
  endif()
  file(STRINGS ${OUT}/${dtype}_a.csv lines)
  list(LENGTH lines n)
  if(NOT n EQUAL 7)
    message(FATAL_ERROR "${dtype}: truth has ${n} lines, expected a header and 3 frames x 2 spots")
  endif()
endforeach()

make_movie(other_seed uint16 8)
file(SHA256 ${OUT}/uint16_a.tif a)
file(SHA256 ${OUT}/other_seed.tif b)
if(a STREQUAL b)
  message(FATAL_ERROR "another seed gave the same movie")
endif()
