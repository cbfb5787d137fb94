// The system section's parsers (FQDN, time zone, virtualization, PSI, pending reboot) and
// collect_system over fixture trees.

#include "diag/collectors/system_collector.hpp"

#include <filesystem>

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

TEST(SystemFqdn, CanonicalNameFromHosts) {
  const char* hosts =
      "127.0.0.1 localhost\n"
      "127.0.1.1\tpc.corp.example.com\tpc   # the usual Debian line\n";
  EXPECT_EQ(fqdn_from_hosts(hosts, "pc"), "pc.corp.example.com");
  // Another host's line does not count, nor a canonical name without a domain.
  EXPECT_EQ(fqdn_from_hosts("10.0.0.1 other.example.com other\n", "pc"), std::nullopt);
  EXPECT_EQ(fqdn_from_hosts("127.0.1.1 pc\n", "pc"), std::nullopt);
  EXPECT_EQ(fqdn_from_hosts("# 127.0.1.1 pc.example.com pc\n", "pc"), std::nullopt);
  EXPECT_EQ(fqdn_from_hosts("", "pc"), std::nullopt);
}

TEST(SystemTimezone, FromLocaltimeLinkTarget) {
  EXPECT_EQ(timezone_from_link("../usr/share/zoneinfo/Europe/Berlin"), "Europe/Berlin");
  EXPECT_EQ(timezone_from_link("/usr/share/zoneinfo/America/Argentina/Buenos_Aires"),
            "America/Argentina/Buenos_Aires");
  EXPECT_EQ(timezone_from_link("/usr/share/zoneinfo/posix/Etc/GMT+5"), "Etc/GMT+5");
  EXPECT_EQ(timezone_from_link("/usr/share/zoneinfo/UTC"), "UTC");
  EXPECT_EQ(timezone_from_link("/etc/alternatives/localtime"), std::nullopt);
  EXPECT_EQ(timezone_from_link("/usr/share/zoneinfo/../../../etc/shadow"), std::nullopt);
  EXPECT_FALSE(is_timezone_name("Europe/Berlin; rm -rf /"));
}

TEST(SystemOsRelease, IdLikeAndCodename) {
  auto os = parse_os_release("ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\n");
  EXPECT_EQ(os["id_like"], "debian");
  EXPECT_EQ(os["codename"], "noble");
  os = parse_os_release("ID=linuxmint\nUBUNTU_CODENAME=jammy\n");
  EXPECT_EQ(os["codename"], "jammy");
  os = parse_os_release("ID=fedora\nVERSION_CODENAME=\"\"\n");
  EXPECT_TRUE(os["codename"].is_null());
}

TEST(SystemVirtualization, LikeSystemdDetectVirt) {
  using In = VirtualizationInputs;
  const auto type = [](const In& in) { return detect_virtualization(in)["type"]; };
  const auto role = [](const In& in) { return detect_virtualization(in)["role"]; };

  In metal;
  metal.sys_vendor = "LENOVO";
  metal.product_name = "20W000T2GE";
  metal.cpu_hypervisor_flag = false;
  EXPECT_EQ(type(metal), "none");
  EXPECT_EQ(role(metal), "host");

  In qemu;
  qemu.sys_vendor = "QEMU";
  qemu.product_name = "Standard PC (Q35 + ICH9, 2009)";
  qemu.cpu_hypervisor_flag = true;
  EXPECT_EQ(type(qemu), "qemu");
  qemu.clocksource = "kvm-clock tsc acpi_pm";
  EXPECT_EQ(type(qemu), "kvm");
  EXPECT_EQ(role(qemu), "guest");

  In vmware;
  vmware.sys_vendor = "VMware, Inc.";
  vmware.product_name = "VMware7,1";
  EXPECT_EQ(type(vmware), "vmware");
  In vbox;
  vbox.sys_vendor = "innotek GmbH";
  vbox.product_name = "VirtualBox";
  EXPECT_EQ(type(vbox), "virtualbox");
  In hyperv;
  hyperv.sys_vendor = "Microsoft Corporation";
  hyperv.product_name = "Virtual Machine";
  EXPECT_EQ(type(hyperv), "hyperv");
  In surface;  // Microsoft hardware that is not a VM
  surface.sys_vendor = "Microsoft Corporation";
  surface.product_name = "Surface Laptop 5";
  surface.cpu_hypervisor_flag = false;
  EXPECT_EQ(type(surface), "none");

  In xen;
  xen.hypervisor_type = "xen";
  EXPECT_EQ(type(xen), "xen");
  EXPECT_EQ(role(xen), "guest");
  xen.xen_capabilities = "control_d";
  EXPECT_EQ(role(xen), "host");

  In no_dmi;  // a KVM guest without DMI and without kvm-clock
  no_dmi.cpu_hypervisor_flag = true;
  EXPECT_EQ(type(no_dmi), "vm-other");

  In wsl;
  wsl.osrelease = "5.15.153.1-microsoft-standard-WSL2";
  wsl.cpu_hypervisor_flag = true;
  EXPECT_EQ(type(wsl), "wsl");

  // Containers win over the VM they run in.
  In docker = qemu;
  docker.dockerenv = true;
  EXPECT_EQ(type(docker), "docker");
  EXPECT_EQ(role(docker), "container");
  In podman;
  podman.containerenv = true;
  EXPECT_EQ(type(podman), "podman");
  In nspawn;
  static const char kEnviron[] = "PATH=/bin\0container=systemd-nspawn\0TERM=xterm\0";
  nspawn.pid1_environ = std::string(kEnviron, sizeof kEnviron - 1);
  EXPECT_EQ(type(nspawn), "systemd-nspawn");
  In lxc;
  lxc.systemd_container = "lxc\n";
  EXPECT_EQ(type(lxc), "lxc");
  In cgroup_v1;
  cgroup_v1.pid1_cgroup = "12:cpuset:/docker/3f2a9c1b7d4e\n11:memory:/docker/3f2a9c1b7d4e\n";
  EXPECT_EQ(type(cgroup_v1), "docker");
  In k8s;
  k8s.pid1_cgroup = "0::/kubepods/besteffort/pod123/abc\n";
  EXPECT_EQ(type(k8s), "container-other");
  In host_init;
  host_init.pid1_cgroup = "0::/init.scope\n";
  host_init.cpu_hypervisor_flag = false;
  EXPECT_EQ(type(host_init), "none");

  // Nothing to go on: unknown, not "none".
  EXPECT_TRUE(detect_virtualization(In{}).is_null());
}

TEST(SystemVirtualization, HypervisorFlagOfFirstProcessor) {
  EXPECT_EQ(cpuinfo_has_hypervisor_flag("processor\t: 0\nflags\t\t: fpu vme hypervisor lahf_lm\n"),
            true);
  EXPECT_EQ(cpuinfo_has_hypervisor_flag("flags\t\t: fpu vme de pse\n"), false);
  EXPECT_EQ(cpuinfo_has_hypervisor_flag("model name : x\n"), std::nullopt);
}

TEST(SystemPressure, Avg10OfSomeAndFull) {
  const char* io =
      "some avg10=4.20 avg60=3.10 avg300=1.50 total=4123456\n"
      "full avg10=3.90 avg60=2.80 avg300=1.20 total=3123456\n";
  EXPECT_DOUBLE_EQ(*parse_pressure_avg10(io, "some"), 4.20);
  EXPECT_DOUBLE_EQ(*parse_pressure_avg10(io, "full"), 3.90);
  EXPECT_EQ(parse_pressure_avg10("some avg60=1.0\n", "some"), std::nullopt);
  EXPECT_EQ(parse_pressure_avg10("some avg10=abc\n", "some"), std::nullopt);
  EXPECT_EQ(parse_pressure_avg10("some avg10=400.00\n", "some"), std::nullopt);
  EXPECT_EQ(parse_pressure_avg10("", "full"), std::nullopt);
}

TEST(SystemRebootRequired, PackagesOnceInOrder) {
  EXPECT_EQ(parse_reboot_packages("linux-image-6.8.0-49-generic\nlinux-base\n"
                                  "linux-image-6.8.0-49-generic\n\n  \n"),
            json({"linux-image-6.8.0-49-generic", "linux-base"}));
  EXPECT_EQ(parse_reboot_packages("bad name\n\x01\x02\n"), json::array());
}

TEST(SystemClock, RealAdjtimexAnswers) {
  // ntp_adjtime(modes 0) needs no privilege; whatever the state, the figures are sane.
  const auto status = system_clock_status();
  ASSERT_TRUE(status.has_value());
  EXPECT_GE(status->max_error_us, 0);
}

}  // namespace
}  // namespace tether::agent::diag
