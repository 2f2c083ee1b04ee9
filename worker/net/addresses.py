"""Which addresses newswatch may contact: globally routable unicast only.

The tables are the IANA special-purpose address registries (IPv4 and IPv6), every entry,
whatever its "globally reachable" column says: no news site lives at an anycast relay,
an AS112 sink or a drone identifier. Python's `is_global` is applied as well, but it
misses several of them (fec0::/10, 192.0.0.9, 2001:4:112::/48, ff00::/8…), hence the
tables. IPv6 must also lie in 2000::/3, the only space allocated for global unicast.
IPv4-mapped and 6to4 addresses are refused whole (no resolver hands them out for a
site; 6to4 is deprecated by RFC 7526); NAT64's well-known prefix, which DNS64 hands out
for every IPv4-only site on an IPv6-only network, is judged by the IPv4 address it carries.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# https://www.iana.org/assignments/iana-ipv4-special-registry (every entry), plus
# multicast (224.0.0.0/4), which that registry leaves to its own.
SPECIAL_IPV4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private use
        "100.64.0.0/10",  # shared address space (CGNAT)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link local
        "172.16.0.0/12",  # private use
        "192.0.0.0/24",  # IETF protocol assignments (192.0.0.9 PCP, .10 TURN, .170 NAT64…)
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.31.196.0/24",  # AS112-v4
        "192.52.193.0/24",  # AMT
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",  # private use
        "192.175.48.0/24",  # direct delegation AS112 service
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved
        "255.255.255.255/32",  # limited broadcast
    )
)

# https://www.iana.org/assignments/iana-ipv6-special-registry (every entry but NAT64's
# well-known prefix, judged by the IPv4 address it carries).
SPECIAL_IPV6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::1/128",  # loopback
        "::/128",  # unspecified
        "::ffff:0:0/96",  # IPv4-mapped
        "64:ff9b:1::/48",  # IPv4-IPv6 translation, local use
        "100::/64",  # discard-only
        "100:0:0:1::/64",  # dummy prefix
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHIDv2, AS112-v6, AMT, DETs…)
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4
        "2620:4f:8000::/48",  # direct delegation AS112 service
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing SIDs
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local unicast
    )
)
GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known prefix; the last 32 bits are IPv4
SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")

# Cloud instance-metadata endpoints: refused even when private networks are allowed.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)


def parse_address(address: str) -> IPAddress:
    """An address as connected to (an IPv6 zone such as `%eth0` dropped)."""
    return ipaddress.ip_address(address.split("%", 1)[0])


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in SIX_TO_FOUR:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    # IPv4-compatible (::a.b.c.d, deprecated by RFC 4291) lies outside 2000::/3 and is
    # refused below; nothing else carries an IPv4 address a stack would route to.
    return None


def is_metadata_address(address: str) -> bool:
    """Cloud instance-metadata endpoints, in any IPv6 form that reaches them too."""
    ip = parse_address(address)
    return ip in METADATA or embedded_ipv4(ip) in METADATA


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (newswatch's default)."""
    ip = parse_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip in NAT64:
        return is_public_address(str(embedded_ipv4(ip)))
    if isinstance(ip, ipaddress.IPv4Address):
        if any(ip in network for network in SPECIAL_IPV4):
            return False
    else:
        if ip not in GLOBAL_UNICAST or any(ip in network for network in SPECIAL_IPV6):
            return False
    return ip.is_global and ip not in METADATA
