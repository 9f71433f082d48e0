/* scripts/bench/gemm_step_probe.c: the GEMMs of one GPT training step's Linear layers, OpenBLAS against
 * oneDNN's matmul primitive (created once per shape, as the engine's CDNNLShim caches it), per shape and
 * summed over a step. Per Linear (N out, K in) of a config with M = batch·seq rows:
 *   forward  NT  y (M,N) = x (M,K) · Wᵀ + bias   (OpenBLAS: bias rows prefilled, beta 1; oneDNN: bias fused)
 *   dx       NN  (M,K) = g (M,N) · W (N,K)        (beta 0)
 *   dW       TN  (N,K) = gᵀ · x                   (beta 0, a reduction over the M rows)
 * the tied head (N = vocab) without bias. Best of 5 calls after a warm-up, best over rounds (alternating).
 * Usage: gemm_step_probe THREADS M DIM VOCAB LAYERS [ROUNDS]
 *   tiny: 2 4096 128 512 4 · char: 2 4096 384 65 6 · gpt2: 2 256 768 50257 12
 * Build: cc -O2 -fopenmp gemm_step_probe.c -lopenblas -ldnnl   (run with OPENBLAS_THREAD_TIMEOUT=16 as the
 * engine does; oneDNN prints the implementation it chose to stderr) */
#include <cblas.h>
#include <dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
typedef struct {int ta,tb,m,n,k;float beta;int bias;} G;
static float biasv[60000];
static dnnl_engine_t eng; static dnnl_stream_t st;
#define CK(x) do{dnnl_status_t s_=(x); if(s_!=dnnl_success){fprintf(stderr,"%s: %d\n",#x,s_);exit(1);}}while(0)
typedef struct {dnnl_primitive_t p; dnnl_memory_t a,b,c,bias;} P;
static P mk(G g){
  P r; dnnl_memory_desc_t a,b,c;
  dnnl_dims_t ad={g.m,g.k}, bd={g.k,g.n}, cd={g.m,g.n};
  dnnl_dims_t as = {g.ta?1:g.k, g.ta?g.m:1}; // a stored (m,k) or (k,m)
  dnnl_dims_t bs = {g.tb?1:g.n, g.tb?g.k:1}; // b stored (k,n) or (n,k)
  dnnl_dims_t cs={g.n,1};
  CK(dnnl_memory_desc_init_by_strides(&a,2,ad,dnnl_f32,as));
  CK(dnnl_memory_desc_init_by_strides(&b,2,bd,dnnl_f32,bs));
  CK(dnnl_memory_desc_init_by_strides(&c,2,cd,dnnl_f32,cs));
  dnnl_memory_desc_t bm; dnnl_dims_t bdd={1,g.n}, bss={g.n,1}; CK(dnnl_memory_desc_init_by_strides(&bm,2,bdd,dnnl_f32,bss));
  dnnl_matmul_desc_t md; CK(dnnl_matmul_desc_init(&md,&a,&b,g.bias?&bm:NULL,&c)); r.bias=0; if(g.bias) CK(dnnl_memory_create(&r.bias,&bm,eng,biasv));
  dnnl_primitive_attr_t at; CK(dnnl_primitive_attr_create(&at));
  if(g.beta!=0&&!g.bias){dnnl_post_ops_t po; dnnl_post_ops_create(&po); dnnl_post_ops_append_sum(po,g.beta); dnnl_primitive_attr_set_post_ops(at,po);}
  dnnl_primitive_desc_t pd; CK(dnnl_primitive_desc_create(&pd,&md,at,eng,NULL));
  const char*impl; dnnl_primitive_desc_query(pd,dnnl_query_impl_info_str,0,&impl);
  fprintf(stderr,"impl %s\n",impl);
  CK(dnnl_primitive_create(&r.p,pd));
  CK(dnnl_memory_create(&r.a,&a,eng,DNNL_MEMORY_NONE));
  CK(dnnl_memory_create(&r.b,&b,eng,DNNL_MEMORY_NONE));
  CK(dnnl_memory_create(&r.c,&c,eng,DNNL_MEMORY_NONE));
  return r;
}
static void run_dnnl(P*p,const float*a,const float*b,float*c){
  dnnl_memory_set_data_handle(p->a,(void*)a); dnnl_memory_set_data_handle(p->b,(void*)b); dnnl_memory_set_data_handle(p->c,c);
  dnnl_exec_arg_t args[4]={{DNNL_ARG_SRC,p->a},{DNNL_ARG_WEIGHTS,p->b},{DNNL_ARG_DST,p->c},{DNNL_ARG_BIAS,p->bias}};
  dnnl_primitive_execute(p->p,st,p->bias?4:3,args); }
static void run_blas(G g,const float*a,const float*b,float*c){ if(g.bias){
 for(int r=0;r<g.m;r++) memcpy(c+(size_t)r*g.n,biasv,sizeof(float)*g.n);}
  cblas_sgemm(CblasRowMajor,g.ta?CblasTrans:CblasNoTrans,g.tb?CblasTrans:CblasNoTrans,g.m,g.n,g.k,1,a,g.ta?g.m:g.k,b,g.tb?g.k:g.n,g.beta,c,g.n);}
int main(int argc,char**argv){
  int th=atoi(argv[1]), M=atoi(argv[2]), D=atoi(argv[3]), V=atoi(argv[4]), L=atoi(argv[5]); int rounds=argc>6?atoi(argv[6]):5;
  openblas_set_num_threads(th); omp_set_num_threads(th);
  CK(dnnl_engine_create(&eng,dnnl_cpu,0)); CK(dnnl_stream_create(&st,eng,dnnl_stream_default_flags));
  int lin[5][2]={{3*D,D},{D,D},{4*D,D},{D,4*D},{V,D}}; int cnt[5]={L,L,L,L,1};
  G gs[15]; int ng=0, mult[15];
  for(int i=0;i<5;i++){int N=lin[i][0],K=lin[i][1];
    gs[ng]=(G){0,1,M,N,K,i==4?0.f:1.f,i!=4}; mult[ng++]=cnt[i];
    gs[ng]=(G){0,0,M,K,N,0,0}; mult[ng++]=cnt[i];
    gs[ng]=(G){1,0,N,K,M,0,0}; mult[ng++]=cnt[i];}
  double tb[15],td[15]; P ps[15];
  float*a=malloc(sizeof(float)*M*4*D*4+4*V*D*4), *b=malloc(sizeof(float)*(size_t)V*D*8+4*D*D*16), *c=malloc(sizeof(float)*(size_t)M*(V>4*D?V:4*D)*2);
  for(size_t i=0;i<(size_t)M*4*D;i++)a[i]=(rand()%100)*0.01f; for(size_t i=0;i<(size_t)(V>4*D?V:4*D)*D*4;i++)b[i]=(rand()%100)*0.01f;
  for(int i=0;i<ng;i++){ps[i]=mk(gs[i]);tb[i]=td[i]=1e9;}
  for(int r=0;r<rounds;r++) for(int i=0;i<ng;i++){
    for(int w=0;w<2;w++){
     double best=1e9;
     for(int rep=0;rep<6;rep++){double t0=now(); if(w==0) run_blas(gs[i],a,b,c); else run_dnnl(&ps[i],a,b,c); double t=now()-t0; if(rep>0&&t<best)best=t;}
     if(w==0){if(best<tb[i])tb[i]=best;} else {if(best<td[i])td[i]=best;}
    }}
  double sb=0,sd=0,smin=0;
  for(int i=0;i<ng;i++){G g=gs[i]; double fl=2.0*g.m*g.n*g.k;
    printf("%c%c %5d x %5d x %5d beta%g x%d: blas %.3f ms (%.0f GF/s) dnnl %.3f ms (%.0f GF/s) %+.0f%%\n",g.ta?'T':'N',g.tb?'T':'N',g.m,g.n,g.k,g.beta,mult[i],tb[i]*1e3,fl/tb[i]/1e9,td[i]*1e3,fl/td[i]/1e9,(tb[i]/td[i]-1)*100);
    sb+=tb[i]*mult[i]; sd+=td[i]*mult[i]; smin+=(tb[i]<td[i]?tb[i]:td[i])*mult[i];}
  printf("step total: blas %.1f ms, dnnl %.1f ms, best-of-each %.1f ms\n",sb*1e3,sd*1e3,smin*1e3);
}
