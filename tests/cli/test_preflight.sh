#!/usr/bin/env bash
# deploy/postern-preflight against fake /proc and /sys trees: a host that is
# ready, one that is missing everything, and the misplacements an operator
# would not see without it (NIC on another NUMA node, hugepages on the wrong
# node, a NIC still on its kernel driver, worker cores not isolated).
set -uo pipefail
pre=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

check() {	# NAME EXPECTED_RC PATTERN... -- ARGS...
	local name=$1 want=$2 out rc pat
	shift 2
	local pats=()
	while [[ $1 != -- ]]; do pats+=("$1"); shift; done
	shift
	n=$((n + 1))
	out=$("$pre" "$@" 2>&1)
	rc=$?
	if [[ $rc != "$want" ]]; then
		printf 'FAIL %s: exit %s, want %s\n%s\n' "$name" "$rc" "$want" "$out"
		failed=$((failed + 1))
		return
	fi
	for pat in "${pats[@]}"; do
		if ! grep -qE -- "$pat" <<<"$out"; then
			printf 'FAIL %s: no line matching /%s/ in:\n%s\n' "$name" "$pat" "$out"
			failed=$((failed + 1))
			return
		fi
	done
	printf 'ok %s\n' "$name"
}

# A two-node host: NIC 0000:3b:00.0 on node 1, CPUs 0-3 on node 0, 4-7 on node 1.
make_host() {
	local r=$1 c
	mkdir -p "$r/proc" "$r/sys/kernel/mm/hugepages/hugepages-1048576kB" \
		"$r/sys/kernel/iommu_groups/0" "$r/sys/kernel/iommu_groups/1" \
		"$r/sys/bus/pci/drivers/vfio-pci" "$r/sys/bus/pci/drivers/ixgbe" \
		"$r/sys/bus/pci/devices/0000:3b:00.0" "$r/sys/devices/system/cpu"
	echo 'flags		: fpu sse4_2 aes avx2 pclmulqdq' >"$r/proc/cpuinfo"
	echo 'nodev /dev/hugepages hugetlbfs rw,relatime 0 0' >"$r/proc/mounts"
	echo 4 >"$r/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"
	for c in 0 1; do
		mkdir -p "$r/sys/devices/system/node/node$c/hugepages/hugepages-1048576kB"
		echo 2 >"$r/sys/devices/system/node/node$c/hugepages/hugepages-1048576kB/nr_hugepages"
	done
	for c in 0 1 2 3 4 5 6 7; do
		mkdir -p "$r/sys/devices/system/cpu/cpu$c/node$((c / 4))"
	done
	echo 4-7 >"$r/sys/devices/system/cpu/isolated"
	echo 4-7 >"$r/sys/devices/system/cpu/nohz_full"
	echo 1 >"$r/sys/bus/pci/devices/0000:3b:00.0/numa_node"
	ln -s ../../../bus/pci/drivers/vfio-pci "$r/sys/bus/pci/devices/0000:3b:00.0/driver"
}

ready=$tmp/ready
make_host "$ready"
check ready 0 '^ok +hugepages +node 1: 2048 MiB' '^ok +nic +0000:3b:00.0: bound to vfio-pci, NUMA node 1' \
	'^ok +lcores +CPU 5 isolated, nohz_full' '^0 to fix' -- \
	--root "$ready" --nic 0000:3b:00.0 --lcores 4-5 --hugepages-mb 2048

check wrong-node-cores 0 '^warn +numa +CPU 1 is on node 0, a NIC on node 1' \
	'^warn +lcores +CPU 1 not isolated' -- \
	--root "$ready" --nic 0000:3b:00.0 --lcores 1

check too-little-hugepages 1 '^FAIL +hugepages +node 1: 2048 MiB, need 4096' '^1 to fix' -- \
	--root "$ready" --nic 0000:3b:00.0 --hugepages-mb 4096

kern=$tmp/kernel-driver
make_host "$kern"
rm "$kern/sys/bus/pci/devices/0000:3b:00.0/driver"
ln -s ../../../bus/pci/drivers/ixgbe "$kern/sys/bus/pci/devices/0000:3b:00.0/driver"
check kernel-driver 1 '^FAIL +nic +0000:3b:00.0: bound to ixgbe, not vfio-pci.*dpdk-devbind.py -b vfio-pci 0000:3b:00.0' -- \
	--root "$kern" --nic 0000:3b:00.0

check no-such-nic 1 '^FAIL +nic +0000:99:00.0: no such PCI device' -- \
	--root "$ready" --nic 0000:99:00.0

bare=$tmp/bare
mkdir -p "$bare/proc" "$bare/sys"
echo 'flags		: fpu sse2' >"$bare/proc/cpuinfo"
: >"$bare/proc/mounts"
check bare-host 1 '^FAIL +cpu +no SSE4.2' '^warn +cpu +AES-NI or AVX2 missing' \
	'^FAIL +hugepages +none reserved' '^FAIL +hugetlbfs' '^FAIL +iommu +no IOMMU groups' \
	'^FAIL +vfio-pci +driver not loaded' '^warn +nic +no --nic given' '^5 to fix' -- \
	--root "$bare"

mkdir -p "$bare/sys/module/vfio/parameters"
echo Y >"$bare/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
check noiommu 1 '^warn +iommu +no IOMMU, vfio in unsafe no-IOMMU mode' -- --root "$bare"

check bad-nic 2 "--nic '3b:00.0': not a PCI address" -- --nic 3b:00.0
check bad-lcores 2 "--lcores '4-2': not a CPU list" -- --lcores 4-2
check bad-hugepages 2 "--hugepages-mb 'lots': must be a positive number" -- --hugepages-mb lots
check bad-root 2 "--root '/nonexistent-postern': no such directory" -- --root /nonexistent-postern
check unknown-flag 2 "unknown argument '--frobnicate'" -- --frobnicate
check help 0 '^usage: postern-preflight' '--hugepages-mb N' -- --help

cfg=$tmp/relay.conf
echo 'workers = 0;' >"$cfg"
check bad-config 1 "^FAIL +config +.*workers" -- --root "$ready" --config "$cfg" --relay "${2:-postern-relay}"

printf '%d checks, %d failed\n' "$n" "$failed"
((failed == 0))
