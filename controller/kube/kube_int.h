/* kube_int.h — helpers shared by client.c, async.c and watch.c; not part of the public API. */
#ifndef LAHAR_KUBE_INT_H
#define LAHAR_KUBE_INT_H

#include "kube/client.h"
#include "kube/config.h"

#include <curl/curl.h>

/* Applies TLS (CA blob or insecure), client certificate blobs, timeouts and keep-alive options
 * of cfg to an easy handle. Returns 0 or LH_EKUBE_CONFIG. */
int lh_kube__easy_tls(CURL *e, const lh_kube_config *cfg, long connect_timeout_ms);
/* Builds the header list (Authorization, Accept, Content-Type, Expect:). NULL on no memory. */
struct curl_slist *lh_kube__headers(const lh_kube_config *cfg, const char *content_type,
                                    const char *accept);
/* Maps an HTTP code and body into resp->status and the return code (0, LH_EKUBE_HTTP,
 * LH_EKUBE_GONE). */
int lh_kube__finish(lh_kube_response *resp);
/* Calls curl_global_init once (thread-safe). */
void lh_kube__global_init(void);

#endif
