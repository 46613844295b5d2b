// Package packaging holds the files of ipdesk's packages (the nfpm
// configuration of the .deb, the systemd unit, the sudoers rule, the
// maintainer scripts and the container definition) and the test that
// builds the .deb, installs it on this machine and signs in to the
// installed service. "make package" builds the packages into dist/.
package packaging
