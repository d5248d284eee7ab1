/* test_kube_config.c — kubeconfig/in-cluster loading, base64, URL building, Status parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "kube/client.h"
#include "kube/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static void write_file(const char *name, const char *text) {
  char p[512];
  snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static int setup(void **state) {
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/lahar-kcfg-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  return 0;
}

static int teardown(void **state) {
  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
  return system(cmd);
}

static const char *KCFG =
    "apiVersion: v1\nkind: Config\ncurrent-context: two\n"
    "clusters:\n"
    "- name: c1\n  cluster:\n    server: https://10.0.0.1:6443/\n"
    "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
    "- name: c2\n  cluster:\n    server: https://127.0.0.1:26444\n    certificate-authority: ca.pem\n"
    "- name: c3\n  cluster:\n    server: https://h:1\n    insecure-skip-tls-verify: true\n"
    "users:\n"
    "- name: u1\n  user:\n    token: abc123\n"
    "- name: u2\n  user:\n    tokenFile: tok.txt\n"
    "- name: u3\n  user:\n    client-certificate-data: Y2VydA==\n    client-key-data: a2V5\n"
    "- name: u4\n  user:\n    exec:\n      command: x\n"
    "contexts:\n"
    "- name: one\n  context:\n    cluster: c1\n    user: u1\n    namespace: ns1\n"
    "- name: two\n  context:\n    cluster: c2\n    user: u2\n"
    "- name: three\n  context:\n    cluster: c3\n    user: u3\n"
    "- name: four\n  context:\n    cluster: c3\n    user: u4\n"
    "- name: five\n  context:\n    cluster: nope\n    user: u1\n";

/* 1.0 current-context, relative CA file, tokenFile trimmed, default namespace */
static void test_current_context(void **state) {
  write_file("kubeconfig", KCFG);
  write_file("ca.pem", "PEMDATA\n");
  write_file("tok.txt", "filetoken\n");
  char path[512], err[256];
  snprintf(path, sizeof(path), "%s/kubeconfig", tmpdir);
  lh_kube_config *c = NULL;
  assert_int_equal(lh_kube_config_load_file(path, NULL, &c, err, sizeof(err)), 0);
  assert_string_equal(c->server, "https://127.0.0.1:26444");
  assert_string_equal(c->ca_pem, "PEMDATA\n");
  assert_int_equal(c->ca_pem_len, 8);
  assert_string_equal(c->token, "filetoken");
  assert_string_equal(c->namespace, "default");
  assert_string_equal(c->context, "two");
  assert_int_equal(c->insecure, 0);
  lh_kube_config_free(c);
}

/* 1.1 named contexts, -data fields, trailing slash, insecure, client cert */
static void test_named_contexts(void **state) {
  char err[256];
  lh_kube_config *c = NULL;
  assert_int_equal(lh_kube_config_load_yaml(KCFG, strlen(KCFG), tmpdir, "one", &c, err, sizeof(err)), 0);
  assert_string_equal(c->server, "https://10.0.0.1:6443");
  assert_string_equal(c->ca_pem, "-----BEGIN CERTIFICATE-----\n");
  assert_string_equal(c->token, "abc123");
  assert_string_equal(c->namespace, "ns1");
  lh_kube_config_free(c);
  assert_int_equal(lh_kube_config_load_yaml(KCFG, strlen(KCFG), tmpdir, "three", &c, err, sizeof(err)), 0);
  assert_int_equal(c->insecure, 1);
  assert_string_equal(c->cert_pem, "cert");
  assert_string_equal(c->key_pem, "key");
  assert_null(c->token);
  lh_kube_config *d = lh_kube_config_dup(c);
  assert_string_equal(d->key_pem, "key");
  lh_kube_config_free(d);
  lh_kube_config_free(c);
}

/* 1.2 bad inputs give clear errors */
static void test_errors(void **state) {
  char err[256];
  lh_kube_config *c = NULL;
  assert_int_equal(lh_kube_config_load_yaml(KCFG, strlen(KCFG), tmpdir, "four", &c, err, sizeof(err)), LH_EKUBE_CONFIG);
  assert_non_null(strstr(err, "exec"));
  assert_null(c);
  assert_int_equal(lh_kube_config_load_yaml(KCFG, strlen(KCFG), tmpdir, "five", &c, err, sizeof(err)), LH_EKUBE_CONFIG);
  assert_non_null(strstr(err, "cluster \"nope\" not found"));
  assert_int_equal(lh_kube_config_load_yaml(KCFG, strlen(KCFG), tmpdir, "nosuch", &c, err, sizeof(err)), LH_EKUBE_CONFIG);
  assert_non_null(strstr(err, "context \"nosuch\""));
  const char *bad = "clusters: [\n  - {";
  assert_int_equal(lh_kube_config_load_yaml(bad, strlen(bad), NULL, NULL, &c, err, sizeof(err)), LH_EKUBE_PARSE);
  assert_non_null(strstr(err, "YAML error"));
  assert_int_equal(lh_kube_config_load_file("/nonexistent/kc", NULL, &c, err, sizeof(err)), LH_EKUBE_IO);
  assert_non_null(strstr(err, "/nonexistent/kc"));
  const char *b64 = "current-context: a\ncontexts:\n- name: a\n  context: {cluster: x, user: y}\n"
                    "clusters:\n- name: x\n  cluster: {server: 'https://a:1', certificate-authority-data: '!!notb64'}\n"
                    "users:\n- name: y\n  user: {token: t}\n";
  assert_int_equal(lh_kube_config_load_yaml(b64, strlen(b64), NULL, NULL, &c, err, sizeof(err)), LH_EKUBE_PARSE);
  assert_non_null(strstr(err, "base64"));
  const char *missing_tok = "current-context: a\ncontexts:\n- name: a\n  context: {cluster: x, user: y}\n"
                            "clusters:\n- name: x\n  cluster: {server: 'https://a:1'}\n"
                            "users:\n- name: y\n  user: {tokenFile: /nonexistent/tok}\n";
  assert_int_equal(lh_kube_config_load_yaml(missing_tok, strlen(missing_tok), NULL, NULL, &c, err, sizeof(err)), LH_EKUBE_IO);
  assert_non_null(strstr(err, "tokenFile"));
  const char *noserver = "current-context: a\ncontexts:\n- name: a\n  context: {cluster: x}\n"
                         "clusters:\n- name: x\n  cluster: {server: 'ftp://a'}\n";
  assert_int_equal(lh_kube_config_load_yaml(noserver, strlen(noserver), NULL, NULL, &c, err, sizeof(err)), LH_EKUBE_CONFIG);
  /* deep flow nesting is refused before libyaml's quadratic scan can cost seconds */
  static char deep[2 * 20000 + 16];
  size_t n = (size_t)sprintf(deep, "clusters: ");
  for (int i = 0; i < 20000; i++) deep[n++] = '[';
  for (int i = 0; i < 20000; i++) deep[n++] = ']';
  deep[n] = 0;
  assert_int_equal(lh_kube_config_load_yaml(deep, n, NULL, NULL, &c, err, sizeof(err)), LH_EKUBE_PARSE);
  assert_non_null(strstr(err, "nested deeper than 64 levels"));
  assert_null(c);
}

/* 1.3 $KUBECONFIG with a colon list picks the first existing file */
static void test_env_kubeconfig(void **state) {
  char path[700], err[256];
  snprintf(path, sizeof(path), "/nonexistent/a:%s/kubeconfig", tmpdir);
  write_file("kubeconfig", KCFG);
  write_file("ca.pem", "PEMDATA\n");
  write_file("tok.txt", "filetoken\n");
  setenv("KUBECONFIG", path, 1);
  lh_kube_config *c = NULL;
  assert_int_equal(lh_kube_config_load_default("one", &c, err, sizeof(err)), 0);
  assert_string_equal(c->token, "abc123");
  lh_kube_config_free(c);
  unsetenv("KUBECONFIG");
}

/* 1.4 in-cluster from an overridden service-account dir */
static void test_in_cluster(void **state) {
  char err[256], sa[400];
  snprintf(sa, sizeof(sa), "%s/sa", tmpdir);
  mkdir(sa, 0700);
  write_file("sa/token", "satoken\n");
  write_file("sa/ca.crt", "CA");
  write_file("sa/namespace", "lahar-system");
  lh_kube_config *c = NULL;
  unsetenv("KUBERNETES_SERVICE_HOST");
  assert_int_equal(lh_kube_config_in_cluster(sa, &c, err, sizeof(err)), LH_EKUBE_CONFIG);
  assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  assert_int_equal(lh_kube_config_in_cluster(sa, &c, err, sizeof(err)), 0);
  assert_string_equal(c->server, "https://[fd00::1]:443");
  assert_string_equal(c->token, "satoken");
  assert_string_equal(c->namespace, "lahar-system");
  assert_int_equal(c->ca_pem_len, 2);
  lh_kube_config_free(c);
  setenv("LAHAR_KUBE_SA_DIR", sa, 1);
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  assert_int_equal(lh_kube_config_auto(&c, err, sizeof(err)), 0);
  assert_string_equal(c->server, "https://10.96.0.1:443");
  lh_kube_config_free(c);
  write_file("sa/token", "");
  unlink(strcat(sa, "/ca.crt"));
  assert_int_equal(lh_kube_config_in_cluster(NULL, &c, err, sizeof(err)), LH_EKUBE_IO);
  assert_non_null(strstr(err, "ca.crt"));
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("LAHAR_KUBE_SA_DIR");
}

static void test_base64(void **state) {
  size_t n;
  char *s = lh_kube_base64_decode("aGVsbG8=", 8, &n);
  assert_string_equal(s, "hello");
  assert_int_equal(n, 5);
  free(s);
  s = lh_kube_base64_decode("aGVs\nbG8", 8, &n);
  assert_string_equal(s, "hello");
  free(s);
  assert_null(lh_kube_base64_decode("a", 1, &n));
  assert_null(lh_kube_base64_decode("aGVs*G8=", 8, &n));
  assert_null(lh_kube_base64_decode("aG=Vs", 5, &n));
}

/* 2.0 paths and query escaping */
static void test_urls(void **state) {
  lh_buf b;
  lh_buf_init(&b, 4096);
  assert_int_equal(lh_kube_path(&b, &LH_KUBE_PODS, "ns1", "p1", "binding"), 0);
  assert_string_equal(lh_buf_str(&b), "/api/v1/namespaces/ns1/pods/p1/binding");
  lh_buf_reset(&b);
  assert_int_equal(lh_kube_path(&b, &LH_KUBE_VOLCANO_QUEUES, "ignored", "q/1", NULL), 0);
  assert_string_equal(lh_buf_str(&b), "/apis/scheduling.volcano.sh/v1beta1/queues/q%2F1");
  lh_buf_reset(&b);
  assert_int_equal(lh_kube_path(&b, &LH_KUBE_PODS, NULL, NULL, NULL), 0);
  assert_string_equal(lh_buf_str(&b), "/api/v1/pods");
  lh_buf_reset(&b);
  assert_int_equal(lh_kube_path(&b, &LH_KUBE_PODS, "a", NULL, "status"), LH_EKUBE_INVAL);
  lh_buf_reset(&b);
  lh_kube_list_opts o = {.label_selector = "app in (a,b),tier!=x", .field_selector = "spec.nodeName=",
                         .limit = 500, .continue_token = "eyJ2Ijo+/=", .resource_version = "95845",
                         .watch = 1, .allow_bookmarks = 1, .timeout_seconds = 300};
  assert_int_equal(lh_kube_query(&b, &o), 0);
  assert_string_equal(lh_buf_str(&b),
                      "?watch=1&allowWatchBookmarks=true&labelSelector=app%20in%20%28a%2Cb%29%2Ctier%21%3Dx"
                      "&fieldSelector=spec.nodeName%3D&resourceVersion=95845&limit=500"
                      "&continue=eyJ2Ijo%2B%2F%3D&timeoutSeconds=300");
  lh_buf_free(&b);
}

/* 2.1 Status bodies (as recorded from a 1.20 apiserver) and non-Status bodies */
static void test_status(void **state) {
  const char *body = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                     "\"message\":\"pods \\\"x\\\" already exists\",\"reason\":\"AlreadyExists\","
                     "\"details\":{\"name\":\"x\",\"kind\":\"pods\"},\"code\":409}";
  lh_kube_status st;
  assert_int_equal(lh_kube_status_parse(body, strlen(body), 409, &st), 0);
  assert_int_equal(st.code, 409);
  assert_string_equal(st.reason, "AlreadyExists");
  assert_string_equal(st.status, "Failure");
  assert_string_equal(st.message, "pods \"x\" already exists");
  assert_int_equal(lh_kube_status_parse("<html>bad\ngateway</html>", 24, 502, &st), LH_EKUBE_PARSE);
  assert_int_equal(st.code, 502);
  assert_string_equal(st.message, "<html>bad gateway</html>");
  assert_int_equal(lh_kube_status_parse(NULL, 0, 404, &st), LH_EKUBE_PARSE);
  assert_string_equal(st.reason, "NotFound");
  char *d = lh_kube_delete_body(&(lh_kube_delete_opts){"Foreground", 0, "u1", "7"});
  assert_string_equal(d, "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"propagationPolicy\":\"Foreground\","
                         "\"gracePeriodSeconds\":0,\"preconditions\":{\"uid\":\"u1\",\"resourceVersion\":\"7\"}}");
  free(d);
  d = lh_kube_binding_body("p1", "n1", NULL);
  assert_string_equal(d, "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"p1\"},"
                         "\"target\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n1\"}}");
  free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_current_context), cmocka_unit_test(test_named_contexts),
      cmocka_unit_test(test_errors),          cmocka_unit_test(test_env_kubeconfig),
      cmocka_unit_test(test_in_cluster),      cmocka_unit_test(test_base64),
      cmocka_unit_test(test_urls),            cmocka_unit_test(test_status),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
