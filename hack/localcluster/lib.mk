# hack/localcluster/lib.mk — the local cluster's pure libraries: object store (SQLite), label/field
# selectors, PATCH flavours. Included by hack/localcluster/module.mk.
LIBS += lcstore
lcstore_SRCS := hack/localcluster/store_sqlite.c hack/localcluster/store_counts.c hack/localcluster/selector.c \
  hack/localcluster/patch_merge.c hack/localcluster/patch_json.c hack/localcluster/patch_strategic.c
TESTS += test_lc_store test_lc_store_paging test_lc_selector test_lc_patch
test_lc_store_LIBS := lcstore util
test_lc_store_paging_LIBS := lcstore util
test_lc_selector_LIBS := lcstore util
test_lc_patch_LIBS := lcstore util
