// ilchat-writecost: this machine's physical limit for delivering small frames over loopback TCP.
// K connected TCP pairs; D deliveries of S bytes written round-robin over them, first with one
// write() per delivery, then with B deliveries to the same socket per write(); a second thread
// drains the other ends with epoll. CPU is the whole process's (getrusage: writer, reader and the
// kernel's TCP work on both sides). A line for people on stderr, one JSON line on stdout.
//   ilchat-writecost [-k pairs] [-d deliveries] [-b batch] [-s bytes]
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {
int pairs = 3000, deliveries = 300000, batch = 10, frame = 102;
std::vector<int> writers, readers;

[[noreturn]] void die(const char* what) { std::perror(what); std::exit(2); }
double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
double wall_seconds() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

void drain(int ep, long long bytes) {  // reads until `bytes` arrived over all reader ends
    std::vector<char> buf(65536);
    epoll_event ev[256];
    while (bytes > 0) {
        int n = epoll_wait(ep, ev, 256, 10000);
        if (n <= 0) die("epoll_wait (nothing arrived for 10 s)");
        for (int i = 0; i < n; ++i)
            for (ssize_t r; (r = read(ev[i].data.fd, buf.data(), buf.size())) > 0;) bytes -= r;
    }
}

struct Round { long long writes; double cpu, wall; };
Round round(int ep, int per_write, int count) {  // `count` deliveries, `per_write` per write()
    std::vector<char> buf(std::size_t(per_write) * frame, 'x');
    const double c0 = cpu_seconds(), w0 = wall_seconds();
    std::thread reader(drain, ep, (long long)count * frame);
    long long writes = 0;
    for (int i = 0; i < count / per_write; ++i, ++writes)
        if (write(writers[i % pairs], buf.data(), buf.size()) != (ssize_t)buf.size()) die("write");
    reader.join();
    return {writes, cpu_seconds() - c0, wall_seconds() - w0};
}
}  // namespace

int main(int argc, char** argv) {
    for (int o; (o = getopt(argc, argv, "k:d:b:s:")) != -1;) {
        int v = std::atoi(optarg);
        if (v <= 0) o = '?';
        if (o == 'k') pairs = v; else if (o == 'd') deliveries = v; else if (o == 'b') batch = v; else if (o == 's') frame = v;
        else { std::fprintf(stderr, "usage: %s [-k pairs] [-d deliveries] [-b batch] [-s bytes]\n", argv[0]); return 2; }
    }
    deliveries -= deliveries % batch;
    rlimit nofile{};
    getrlimit(RLIMIT_NOFILE, &nofile);
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
    if (rlim_t(pairs) * 2 + 16 > nofile.rlim_cur) { std::fprintf(stderr, "-k %d: too few file descriptors\n", pairs); return 2; }

    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1, ep = epoll_create1(0);
    sockaddr_in addr{AF_INET, 0, {htonl(INADDR_LOOPBACK)}, {}};
    socklen_t len = sizeof addr;
    if (bind(listener, (sockaddr*)&addr, len) || listen(listener, 128) || getsockname(listener, (sockaddr*)&addr, &len)) die("listen");
    for (int i = 0; i < pairs; ++i) {
        int w = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(w, (sockaddr*)&addr, sizeof addr)) die("connect");
        int r = accept(listener, nullptr, nullptr);
        if (r < 0) die("accept");
        setsockopt(w, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // one segment per write, as a server does
        fcntl(r, F_SETFL, O_NONBLOCK);
        epoll_event ev{EPOLLIN, {}};
        ev.data.fd = r;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev)) die("epoll_ctl");
        writers.push_back(w);
        readers.push_back(r);
    }
    round(ep, 1, pairs);  // warm-up: every connection carries one frame before measuring
    const Round single = round(ep, 1, deliveries), batched = round(ep, batch, deliveries);
    const double per_cpu_1 = deliveries / std::max(single.cpu, 1e-6), per_cpu_b = deliveries / std::max(batched.cpu, 1e-6);
    std::fprintf(stderr,
                 "writecost: %d deliveries of %d bytes over %d loopback TCP connections: %.0f per CPU-second with one "
                 "write() each (%.2f CPU s, %.2f s), %.0f per CPU-second with %d per write() (%.2f CPU s, %.2f s): x%.1f\n",
                 deliveries, frame, pairs, per_cpu_1, single.cpu, single.wall, per_cpu_b, batch, batched.cpu, batched.wall,
                 per_cpu_b / per_cpu_1);
    auto json = [](const Round& r) {
        char s[256];
        std::snprintf(s, sizeof s,
                      "{\"writes\":%lld,\"cpu_seconds\":%.3f,\"wall_seconds\":%.3f,\"deliveries_per_cpu_second\":%.0f,"
                      "\"deliveries_per_second\":%.0f}",
                      r.writes, r.cpu, r.wall, deliveries / std::max(r.cpu, 1e-6), deliveries / std::max(r.wall, 1e-6));
        return std::string(s);
    };
    std::printf("{\"tool\":\"ilchat-writecost\",\"pairs\":%d,\"frame_bytes\":%d,\"deliveries\":%d,\"batch\":%d,"
                "\"one_write_per_delivery\":%s,",
                pairs, frame, deliveries, batch, json(single).c_str());
    std::printf("\"batched\":%s,\"batch_gain\":%.2f}\n", json(batched).c_str(), per_cpu_b / per_cpu_1);
    return 0;
}
