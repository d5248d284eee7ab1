# controller/util — logging and bounded buffers shared by every binary.
LIBS += util
util_SRCS := $(wildcard controller/util/*.c)
TESTS += test_util
test_util_LIBS := util
TESTS += test_util_jscan
test_util_jscan_LIBS := util
