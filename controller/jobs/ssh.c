/* ssh.c — key generation for the ssh plugin (OpenSSL 3): an RSA key pair as a PKCS#1 PEM
 * private key and an OpenSSH "ssh-rsa" public key line, like Volcano's generateRsaKey (which
 * uses 1024 bits; lahar uses 2048). */
#include "jobs/build.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

/* Appends an SSH wire "string" (uint32 length + bytes) to buf at *off (buf sized by caller). */
static void put_string(unsigned char *buf, size_t *off, const unsigned char *p, size_t n) {
  buf[(*off)++] = (unsigned char)(n >> 24);
  buf[(*off)++] = (unsigned char)(n >> 16);
  buf[(*off)++] = (unsigned char)(n >> 8);
  buf[(*off)++] = (unsigned char)n;
  memcpy(buf + *off, p, n);
  *off += n;
}

/* mpint: big-endian magnitude with a leading zero byte when the top bit is set. */
static void put_mpint(unsigned char *buf, size_t *off, const BIGNUM *bn) {
  unsigned char tmp[1024];
  int n = BN_bn2bin(bn, tmp + 1);
  unsigned char *p = tmp + 1;
  if (n > 0 && (p[0] & 0x80)) {
    p = tmp;
    tmp[0] = 0;
    n++;
  }
  put_string(buf, off, p, (size_t)n);
}

int lh_job_ssh_keygen(char **priv_pem, char **pub_line) {
  *priv_pem = *pub_line = NULL;
  int rc = LH_JOBS_EPARSE;
  EVP_PKEY *pk = EVP_RSA_gen(2048);
  BIO *bio = BIO_new(BIO_s_mem());
  BIGNUM *n = NULL, *e = NULL;
  unsigned char *wire = NULL;
  if (!pk || !bio) goto out;
  if (!PEM_write_bio_PrivateKey_traditional(bio, pk, NULL, NULL, 0, NULL, NULL)) goto out;
  char *mem;
  long len = BIO_get_mem_data(bio, &mem);
  if (len <= 0) goto out;
  if (!(*priv_pem = malloc((size_t)len + 1))) {
    rc = LH_JOBS_ENOMEM;
    goto out;
  }
  memcpy(*priv_pem, mem, (size_t)len);
  (*priv_pem)[len] = 0;
  if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) ||
      !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) || BN_num_bytes(n) > 1000 ||
      BN_num_bytes(e) > 1000)
    goto out;
  wire = malloc(4 + 7 + 4 + 1001 + 4 + 1001);
  if (!wire) {
    rc = LH_JOBS_ENOMEM;
    goto out;
  }
  size_t off = 0;
  put_string(wire, &off, (const unsigned char *)"ssh-rsa", 7);
  put_mpint(wire, &off, e);
  put_mpint(wire, &off, n);
  size_t b64len = 4 * ((off + 2) / 3);
  if (!(*pub_line = malloc(8 + b64len + 2))) {
    rc = LH_JOBS_ENOMEM;
    goto out;
  }
  memcpy(*pub_line, "ssh-rsa ", 8);
  EVP_EncodeBlock((unsigned char *)*pub_line + 8, wire, (int)off);
  strcat(*pub_line, "\n");
  rc = 0;
out:
  if (rc) {
    free(*priv_pem);
    free(*pub_line);
    *priv_pem = *pub_line = NULL;
  }
  free(wire);
  BN_free(n);
  BN_free(e);
  BIO_free(bio);
  EVP_PKEY_free(pk);
  return rc;
}
