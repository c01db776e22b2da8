/*
 * Packet loss and delay without netem (the kernel here has no netem qdisc): a userspace NFQUEUE
 * verdict program. Every packet iptables queues to QUEUE is dropped with probability LOSS (0..1),
 * otherwise accepted DELAY_MS milliseconds after it arrived. The delay is constant, so packets
 * leave in arrival order (a FIFO of packet ids and due times). Used by test/faults/ inside a
 * network namespace the test created; rules use --queue-bypass, so traffic flows unfaulted when
 * this program is not running.
 *
 *   nfq-fault QUEUE LOSS DELAY_MS SEED
 *
 * Build: cc -O2 -o nfq-fault nfq-fault.c -lnetfilter_queue   (Debian: libnetfilter-queue-dev)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#define RING 65536

static struct { uint32_t id; uint64_t due; } ring[RING];
static unsigned head, tail; /* ring[head..tail) are waiting */
static double loss;
static uint64_t delay_ms;
static volatile sig_atomic_t stop;
static unsigned long long seen, dropped;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data) {
  (void)msg; (void)data;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  if (ph == NULL) return 0;
  uint32_t id = ntohl(ph->packet_id);
  seen++;
  if ((double)random() / ((double)RAND_MAX + 1.0) < loss) {
    dropped++;
    return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
  }
  if (delay_ms == 0 || tail - head >= RING) return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
  ring[tail % RING].id = id;
  ring[tail % RING].due = now_ms() + delay_ms;
  tail++;
  return 0;
}

static void release_due(struct nfq_q_handle *qh, int all) {
  uint64_t t = now_ms();
  while (head != tail && (all || ring[head % RING].due <= t)) {
    nfq_set_verdict(qh, ring[head % RING].id, NF_ACCEPT, 0, NULL);
    head++;
  }
}

static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: nfq-fault QUEUE LOSS DELAY_MS SEED\n");
    return 2;
  }
  int queue = atoi(argv[1]);
  loss = atof(argv[2]);
  delay_ms = (uint64_t)atoll(argv[3]);
  srandom((unsigned)atoi(argv[4]));
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);

  struct nfq_handle *h = nfq_open();
  if (h == NULL) { perror("nfq_open"); return 1; }
  struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t)queue, &on_packet, NULL);
  if (qh == NULL) { perror("nfq_create_queue"); return 1; }
  if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) { perror("nfq_set_mode"); return 1; }
  nfq_set_queue_maxlen(qh, RING);
  int fd = nfq_fd(h);
  int rcvbuf = 8 * 1024 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  fprintf(stderr, "nfq-fault: queue %d loss %.3f delay %llu ms\n", queue, loss, (unsigned long long)delay_ms);
  fflush(stderr);

  char buf[65536] __attribute__((aligned));
  while (!stop) {
    int timeout = -1;
    if (head != tail) {
      uint64_t t = now_ms(), due = ring[head % RING].due;
      timeout = due > t ? (int)(due - t) : 0;
    }
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int n = poll(&p, 1, timeout);
    if (n < 0 && errno != EINTR) { perror("poll"); break; }
    if (n > 0 && (p.revents & POLLIN)) {
      int r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (r > 0) nfq_handle_packet(h, buf, r);
      else if (r < 0 && errno == ENOBUFS) fprintf(stderr, "nfq-fault: queue overrun (packets lost by the kernel)\n");
    }
    release_due(qh, 0);
  }
  release_due(qh, 1);
  fprintf(stderr, "nfq-fault: %llu packets, %llu dropped\n", seen, dropped);
  nfq_destroy_queue(qh);
  nfq_close(h);
  return 0;
}
