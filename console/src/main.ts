import './shell';
